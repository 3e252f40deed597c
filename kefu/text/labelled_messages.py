"""The shipped labelled buyer messages (invented for kefu): intent, sentiment, anger and complaint topics per line.

Files live in kefu/text/data/: `messages_train.tsv` (what the intent classifier and the message sentiment model learn
from), `messages_dev.tsv` (for choosing between model variants; the shipped intent model learns from it too once the
choice is made) and `messages_test.tsv` (held out: only bench/text_bench.py reads it, nothing is tuned on it). Columns, tab
separated: intent, sentiment (positive|neutral|negative), anger (0|1: 1 = angry enough to call the buyer), topics
(comma-separated topic codes or -), text. Lines starting with # are comments.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class LabelledMessage:
    """One invented buyer message with what it means."""

    intent: str
    sentiment: str
    angry: bool
    topics: tuple[str, ...]
    text: str


def parse_labelled_messages(lines: list[str], source: str) -> list[LabelledMessage]:
    """Rows of a labelled-message file; ValueError naming source:line for a malformed row."""
    from kefu.text.intents import INTENTS
    from kefu.text.topics import TOPICS

    rows: list[LabelledMessage] = []
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 5:
            raise ValueError(f"{source}:{number}: expected 5 tab-separated columns, found {len(parts)}")
        intent, sentiment, anger, topics, text = (part.strip() for part in parts)
        if intent not in INTENTS:
            raise ValueError(f"{source}:{number}: unknown intent {intent!r}")
        if sentiment not in ("positive", "neutral", "negative"):
            raise ValueError(f"{source}:{number}: sentiment must be positive/neutral/negative, got {sentiment!r}")
        if anger not in ("0", "1"):
            raise ValueError(f"{source}:{number}: anger must be 0 or 1, got {anger!r}")
        codes = () if topics in ("-", "") else tuple(code.strip() for code in topics.split(","))
        unknown = [code for code in codes if code not in TOPICS]
        if unknown:
            raise ValueError(f"{source}:{number}: unknown topic {unknown[0]!r}")
        if not text:
            raise ValueError(f"{source}:{number}: empty text")
        rows.append(LabelledMessage(intent, sentiment, anger == "1", codes, text))
    return rows


def read_labelled_messages(path: str | Path) -> list[LabelledMessage]:
    """A labelled-message file from disk."""
    path = Path(path)
    return parse_labelled_messages(path.read_text(encoding="utf-8").splitlines(), str(path))


@lru_cache(maxsize=2)
def shipped_messages(split: str = "train") -> tuple[LabelledMessage, ...]:
    """The shipped train, dev or test split."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    name = f"messages_{split}.tsv"
    text = resources.files("kefu.text").joinpath("data", name).read_text(encoding="utf-8")
    return tuple(parse_labelled_messages(text.splitlines(), f"kefu/text/data/{name}"))

"""Sentiment label names, and reading a shop's ratings (good/neutral/bad, 1/0, 好评/中评/差评) as training targets."""

from __future__ import annotations

from typing import Literal

SentimentLabel = Literal["positive", "neutral", "negative"]
Rating = int | float | str

POSITIVE_TARGET, NEUTRAL_TARGET, NEGATIVE_TARGET = 1.0, 0.5, 0.0

_TARGET_OF_NAME = {
    "1": POSITIVE_TARGET, "0": NEGATIVE_TARGET,
    "positive": POSITIVE_TARGET, "pos": POSITIVE_TARGET, "good": POSITIVE_TARGET, "好评": POSITIVE_TARGET,
    "neutral": NEUTRAL_TARGET, "neu": NEUTRAL_TARGET, "中评": NEUTRAL_TARGET,
    "negative": NEGATIVE_TARGET, "neg": NEGATIVE_TARGET, "bad": NEGATIVE_TARGET, "差评": NEGATIVE_TARGET,
}  # fmt: skip


def target_of(rating: Rating) -> float:
    """The probability of 'positive' a rating stands for: 1, 0.5 (neutral) or 0.

    Numbers 1 and 0 are positive and negative (the labelled-review convention); names are matched case-blind.
    """
    if isinstance(rating, bool):
        return POSITIVE_TARGET if rating else NEGATIVE_TARGET
    if isinstance(rating, int | float):
        if rating in (0, 0.5, 1):
            return float(rating)
        raise ValueError(f"a numeric rating must be 1 (positive), 0.5 (neutral) or 0 (negative), got {rating!r}")
    target = _TARGET_OF_NAME.get(str(rating).strip().lower())
    if target is None:
        raise ValueError(f"unknown rating {rating!r}: use positive/neutral/negative, good/bad, 1/0 or 好评/中评/差评")
    return target


def label_of(score: float, neutral_margin: float) -> SentimentLabel:
    """positive at or above 0.5 + margin, negative below 0.5 - margin, neutral in between."""
    if score >= 0.5 + neutral_margin:
        return "positive"
    if score < 0.5 - neutral_margin:
        return "negative"
    return "neutral"

"""Understanding one buyer message: intent (rules + classifier), sentiment, anger and complaint topics.

`analyze(text)` for one message, `analyze_many(texts)` for a batch (the fast path: the classifier and the sentiment
model run once over the whole batch). Models load on first use and stay loaded; nothing heavy runs per line.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from kefu.text.anger import anger_of
from kefu.text.intents import rule_scores
from kefu.text.labels import label_of
from kefu.text.tokenize import normalize
from kefu.text.topics import topics_of_normalised

RULE_BOOST = 0.15  # added to the classifier's probability of an intent whose precise rule fires (times rule weight)
OTHER_BELOW = 0.0  # with no rule firing, a best classifier probability below this reads as "other"
DEFAULT_ANGER_CALL_THRESHOLD = 0.6  # kefu.config text_understanding.anger_call_threshold overrides it per shop
# A question about shipping, stock or sizes is neutral even when the review-trained model leans one way: for these
# intents the score is pulled toward 0.5 (cross-validated on the train split: three-way accuracy 0.80 → 0.93).
QUESTION_INTENTS = frozenset({
    "shipping_time", "where_is_parcel", "change_address", "return_exchange", "refund", "invoice", "bargaining",
    "free_shipping", "authenticity", "size_spec", "stock", "other",
})  # fmt: skip
QUESTION_DAMPING = 0.3
NEUTRAL_MARGIN = 0.15  # scores within this distance of 0.5 read as neutral


@dataclass(frozen=True)
class MessageAnalysis:
    """What one buyer message is about and how the buyer feels."""

    intent: str
    intent_confidence: float
    sentiment: Literal["positive", "neutral", "negative"]
    sentiment_score: float  # 0..1, 1 = positive
    anger: float  # 0..1
    topics: tuple[str, ...]

    def suggests_call(self, threshold: float = DEFAULT_ANGER_CALL_THRESHOLD) -> bool:
        """Angry enough that a phone call would serve better than another chat line."""
        return self.anger >= threshold

    def to_json(self, call_threshold: float = DEFAULT_ANGER_CALL_THRESHOLD) -> dict[str, object]:
        """A JSON-ready dict (topics as a list, plus suggest_call)."""
        row = asdict(self)
        row["topics"] = list(self.topics)
        row["suggest_call"] = self.suggests_call(call_threshold)
        return row


_ready = threading.Lock()


def _models():
    """The intent classifier and the chat sentiment model (loaded once)."""
    from kefu.text.intent_model import shipped_intent_model
    from kefu.text.message_sentiment import message_sentiment_model

    with _ready:
        return shipped_intent_model(), message_sentiment_model()


def combine_intent(probabilities: dict[str, float], rules: dict[str, float]) -> tuple[str, float]:
    """The intent and its confidence from classifier probabilities and the rules that fired."""
    combined = dict(probabilities)
    for intent, weight in rules.items():
        combined[intent] = combined.get(intent, 0.0) + RULE_BOOST * weight
    best = max(combined, key=lambda intent: combined[intent])
    if not rules and probabilities.get(best, 0.0) < OTHER_BELOW:
        return "other", round(1.0 - probabilities.get(best, 0.0), 3)
    total = sum(combined.values())
    return best, round(combined[best] / total, 3) if total else 0.0


def analyze_many(texts: Sequence[str]) -> list[MessageAnalysis]:
    """The analysis of every text, in order."""
    texts = list(texts)
    if not texts:
        return []
    intent_model, sentiment_model = _models()
    normalised = [normalize(text) for text in texts]
    probabilities = intent_model.probabilities(normalised)
    scores = sentiment_model.scores(normalised)
    labels = intent_model.labels
    results: list[MessageAnalysis] = []
    for index, text in enumerate(normalised):
        if not text:
            results.append(MessageAnalysis("other", 1.0, "neutral", 0.5, 0.0, ()))
            continue
        row = probabilities[index]
        top = np.argsort(row)[::-1][:4]
        intent, confidence = combine_intent({labels[i]: float(row[i]) for i in top}, rule_scores(text))
        score = float(scores[index])
        if intent in QUESTION_INTENTS:
            score = 0.5 + (score - 0.5) * QUESTION_DAMPING
        results.append(
            MessageAnalysis(
                intent=intent,
                intent_confidence=confidence,
                sentiment=label_of(score, NEUTRAL_MARGIN),
                sentiment_score=round(score, 4),
                anger=anger_of(text, float(scores[index]), complaint=intent == "complaint"),
                topics=topics_of_normalised(text),
            )
        )
    return results


def analyze(text: str) -> MessageAnalysis:
    """The analysis of one buyer message."""
    return analyze_many([text])[0]

"""The intent classifier: a character 1-3-gram TF-IDF logistic regression over the shipped labelled buyer messages.

Trained once per process at first use (a few hundred lines: well under a second) and kept; prediction is a sparse
matrix product and a softmax over a whole batch, so nothing heavy runs per line.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kefu.text.features import CharNgramVocabulary
from kefu.text.labelled_messages import LabelledMessage, shipped_messages

INVERSE_REGULARISATION = 20.0  # logistic regression C, chosen by cross-validation on the train split only


@dataclass(frozen=True, eq=False)
class IntentModel:
    """Intent labels, the n-gram vocabulary, one weight row per label and the intercepts."""

    labels: tuple[str, ...]
    vocabulary: CharNgramVocabulary
    weights: np.ndarray  # (labels, features) float32
    intercepts: np.ndarray  # (labels,)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """One row of label probabilities per text (rows sum to 1)."""
        features = self.vocabulary.transform(texts)
        logits = np.asarray(features @ self.weights.T) + self.intercepts
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)


def train_intent_model(
    messages: Sequence[LabelledMessage], inverse_regularisation: float = INVERSE_REGULARISATION
) -> IntentModel:
    """A model fitted on the given labelled messages (deterministic)."""
    from sklearn.linear_model import LogisticRegression  # only needed to train

    texts = [message.text for message in messages]
    targets = [message.intent for message in messages]
    vocabulary = CharNgramVocabulary.fit(texts, max_n=3)
    classifier = LogisticRegression(C=inverse_regularisation, max_iter=2000)
    classifier.fit(vocabulary.transform(texts), np.array(targets))
    return IntentModel(
        labels=tuple(str(label) for label in classifier.classes_),
        vocabulary=vocabulary,
        weights=classifier.coef_.astype(np.float32),
        intercepts=classifier.intercept_.astype(np.float64),
    )


_model: IntentModel | None = None
_lock = threading.Lock()


def shipped_intent_model() -> IntentModel:
    """The model trained on the shipped train split, built once per process."""
    global _model
    with _lock:
        if _model is None:
            _model = train_intent_model(shipped_messages("train"))
        return _model

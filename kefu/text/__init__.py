"""Chinese shop-text understanding: sentiment of reviews and chats (see sentiment.py)."""

from kefu.text.sentiment import (
    Sentiment,
    SentimentModel,
    TrainingSettings,
    base_model,
    load_model,
    save_model,
    sentiment,
    train,
)

__all__ = [
    "Sentiment",
    "SentimentModel",
    "TrainingSettings",
    "base_model",
    "load_model",
    "save_model",
    "sentiment",
    "train",
]

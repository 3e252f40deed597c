"""The sentiment model for buyer chat: kefu's base sentiment model refitted with the labelled buyer messages.

The base model (sentiment.py) learned from product reviews, where a bare question such as 什么时候发货 leans negative.
This one is `sentiment.train` on the shipped train split of buyer messages on top of the same base corpus, built once
and cached next to the base model (the file name carries both fingerprints, so new data rebuilds it).
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from kefu.text.base_corpus import shipped_base_corpus
from kefu.text.labelled_messages import shipped_messages
from kefu.text.sentiment import MODEL_FORMAT, SentimentModel, default_cache_dir, load_model, save_model, train

_models: dict[Path, SentimentModel] = {}
_lock = threading.Lock()


def messages_fingerprint() -> str:
    """Identifies the train split's texts and sentiment labels."""
    rows = "\n".join(f"{message.sentiment}\t{message.text}" for message in shipped_messages("train"))
    return hashlib.sha256(rows.encode()).hexdigest()[:10]


def message_sentiment_model(cache_dir: str | os.PathLike[str] | None = None) -> SentimentModel:
    """The buyer-chat sentiment model: loaded from the cache dir, else trained (a few seconds) and cached."""
    directory = (Path(cache_dir) if cache_dir is not None else default_cache_dir()).expanduser().resolve()
    with _lock:
        if directory not in _models:
            corpus = shipped_base_corpus()
            path = directory / f"sentiment-chat-f{MODEL_FORMAT}-{corpus.fingerprint}-{messages_fingerprint()}.npz"
            try:
                model = load_model(path)
            except (OSError, ValueError, KeyError):
                messages = shipped_messages("train")
                model = train([m.text for m in messages], [m.sentiment for m in messages], base=corpus)
                save_model(model, path)
            _models[directory] = model
        return _models[directory]

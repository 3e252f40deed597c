"""Text normalisation, batch code-point arrays for the character features, and a quiet jieba word tokenizer."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_jieba_lock = threading.Lock()


def normalize(text: str) -> str:
    """One spelling per character: NFKC (full-width to half-width), lower case, control characters dropped, one space."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _CONTROL.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def batch_code_points(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The normalised texts' code points end to end, each text followed by a 0 separator, and each position's text.

    Returns (codes, text_of): codes is uint64 (so n-gram keys can be shifted in place), text_of the index of the text
    each position belongs to (separators included). Normalised text never contains code point 0.
    """
    normalised = [normalize(text) for text in texts]
    joined = "\x00".join(normalised) + "\x00"
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    lengths = np.fromiter((len(text) + 1 for text in normalised), dtype=np.int64, count=len(normalised))
    text_of = np.repeat(np.arange(len(normalised), dtype=np.int64), lengths)
    return codes, text_of


@lru_cache(maxsize=1)
def _jieba():
    """jieba with its dictionary loaded once, without the 'Building prefix dict' chatter on stderr."""
    with _jieba_lock:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        logging.getLogger("jieba").setLevel(logging.WARNING)
        jieba.initialize()
        return jieba


def words(text: str) -> list[str]:
    """The normalised text cut into words by jieba (dictionary only, no HMM guessing: faster and deterministic)."""
    return [word for word in _jieba().lcut(normalize(text), HMM=False) if word.strip()]

"""Character n-gram TF-IDF features computed for a whole batch at once with numpy (no per-n-gram Python loop)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from kefu.text.tokenize import batch_code_points

BITS_PER_CHAR = 21  # every Unicode code point fits in 21 bits, so a 3-gram key fits in 63 bits exactly
MAX_N = 3


def ngram_keys(texts: Sequence[str], max_n: int = MAX_N) -> tuple[np.ndarray, np.ndarray]:
    """Every character 1..max_n-gram of every text as an exact uint64 key, with the index of its text.

    A key is the n-gram's code points packed 21 bits apart; n-grams of different lengths never share a key because no
    character is code point 0. N-grams that would cross from one text into the next are left out.
    """
    if not 1 <= max_n <= MAX_N:
        raise ValueError(f"max_n must be 1..{MAX_N}, got {max_n}")
    codes, text_of = batch_code_points(texts)
    keys_parts, texts_parts = [], []
    key = codes.copy()
    valid = codes != 0
    for n in range(1, max_n + 1):
        if n > 1:
            following = codes[n - 1 :]
            key = (key[: len(following)] << np.uint64(BITS_PER_CHAR)) | following
            valid = valid[: len(following)] & (following != 0)
        keys_parts.append(key[valid])
        texts_parts.append(text_of[: len(valid)][valid])
    return np.concatenate(keys_parts), np.concatenate(texts_parts)


def distinct_per_text(keys: np.ndarray, text_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (key, text) pairs with repeats within a text removed."""
    order = np.lexsort((keys, text_of))
    keys, text_of = keys[order], text_of[order]
    first_in_text = np.ones(len(keys), dtype=bool)
    first_in_text[1:] = (keys[1:] != keys[:-1]) | (text_of[1:] != text_of[:-1])
    return keys[first_in_text], text_of[first_in_text]


def lookup(vocabulary: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each key's position in the sorted vocabulary, and whether it is there at all."""
    if len(vocabulary) == 0:
        return np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=bool)
    positions = np.searchsorted(vocabulary, keys)
    positions[positions == len(vocabulary)] = 0
    return positions, vocabulary[positions] == keys


def sublinear_tfidf_rows(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """Term counts turned in place into (1 + log count) * idf, each row scaled to unit length (empty rows stay 0)."""
    counts.sum_duplicates()
    counts.data = (1.0 + np.log(counts.data)) * idf[counts.indices]
    row_of_value = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    norms = np.sqrt(np.bincount(row_of_value, weights=counts.data**2, minlength=counts.shape[0]))
    norms[norms == 0] = 1.0
    counts.data /= norms[row_of_value]
    return counts


@dataclass(frozen=True)
class CharNgramVocabulary:
    """The known n-gram keys (sorted) with their IDF; turns texts into L2-normalised sublinear TF-IDF rows."""

    keys: np.ndarray  # uint64, sorted ascending
    idf: np.ndarray  # float64, one per key
    max_n: int = MAX_N

    @classmethod
    def fit(cls, texts: Sequence[str], max_n: int = MAX_N, min_df: int = 1) -> CharNgramVocabulary:
        """The vocabulary of n-grams found in at least min_df texts, with smooth IDF as in scikit-learn."""
        keys, _ = distinct_per_text(*ngram_keys(texts, max_n))
        distinct, df = np.unique(keys, return_counts=True)
        keep = df >= min_df
        idf = np.log((1.0 + len(texts)) / (1.0 + df[keep])) + 1.0
        return cls(keys=distinct[keep], idf=idf, max_n=max_n)

    def __len__(self) -> int:
        return len(self.keys)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """One L2-normalised row per text: (1 + log count) * idf for every known n-gram; unknown n-grams are ignored."""
        keys, text_of = ngram_keys(texts, self.max_n)
        in_key_order = np.argsort(keys)  # sorted queries walk the vocabulary in order: far fewer cache misses
        keys, text_of = keys[in_key_order], text_of[in_key_order]
        columns, known = lookup(self.keys, keys)
        counts = sp.csr_matrix(
            (np.ones(int(known.sum())), (text_of[known], columns[known])), shape=(len(texts), len(self.keys))
        )
        return sublinear_tfidf_rows(counts, self.idf)

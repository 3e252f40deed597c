"""Optional jieba word 1-2-gram TF-IDF features (slower than the character features: jieba cuts in pure Python)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import scipy.sparse as sp

from kefu.text.features import sublinear_tfidf_rows
from kefu.text.tokenize import words


def word_terms(text: str) -> list[str]:
    """The text's jieba words and its pairs of neighbouring words ("质量 不错")."""
    cut = words(text)
    return cut + [f"{first} {second}" for first, second in pairwise(cut)]


@dataclass(frozen=True, eq=False)
class WordVocabulary:
    """Known word terms (sorted) with their IDF; turns texts into L2-normalised sublinear TF-IDF rows."""

    terms: np.ndarray  # str, sorted ascending
    idf: np.ndarray
    column_of: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_of", {term: column for column, term in enumerate(self.terms.tolist())})

    @classmethod
    def fit(cls, texts: Sequence[str], min_df: int = 1) -> WordVocabulary:
        """Terms found in at least min_df texts, with smooth IDF as in scikit-learn."""
        df = Counter(term for text in texts for term in set(word_terms(text)))
        terms = sorted(term for term, count in df.items() if count >= min_df)
        idf = np.log((1.0 + len(texts)) / (1.0 + np.array([df[term] for term in terms], dtype=np.float64))) + 1.0
        return cls(terms=np.array(terms, dtype=np.str_), idf=idf.astype(np.float32))

    def __len__(self) -> int:
        return len(self.terms)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """One L2-normalised row per text: (1 + log count) * idf for every known term."""
        rows: list[int] = []
        columns: list[int] = []
        for row, text in enumerate(texts):
            for term in word_terms(text):
                column = self.column_of.get(term)
                if column is not None:
                    rows.append(row)
                    columns.append(column)
        counts = sp.csr_matrix((np.ones(len(rows)), (rows, columns)), shape=(len(texts), len(self.terms)))
        return sublinear_tfidf_rows(counts, self.idf)

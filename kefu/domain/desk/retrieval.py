"""Ranking the shop's knowledge entries for a buyer's message: BM25 (rank-bm25) over jieba words."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rank_bm25 import BM25Okapi

from kefu.domain.desk.knowledge import Entry
from kefu.text.tokenize import words

# Words that say nothing about which fact is meant (particles, greetings, punctuation).
STOP_WORDS = frozenset(
    "的 了 吗 呢 吧 啊 呀 哦 嘛 么 是 在 我 你 您 他 她 它 们 这 那 个 有 和 与 就 都 也 还 要 能 会 可以 亲 请问 请 "
    "一下 一个 什么 怎么 多少 谢谢 好的 嗯 哈 , . ? ! ， 。 ？ ！ 、 ： : ~ ～".split()
)


@dataclass(frozen=True)
class Ranked:
    entry: Entry
    score: float


def tokens(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOP_WORDS]


def rank_entries(query: str, entries: Sequence[Entry], *, top: int = 3) -> list[Ranked]:
    """The entries that share words with the query, best first (ties: the order given); none when nothing matches."""
    query_tokens = tokens(query)
    if not entries or not query_tokens:
        return []
    corpus = [tokens(entry.search_text()) or ["\x00"] for entry in entries]
    scores = BM25Okapi(corpus).get_scores(query_tokens)
    matches = [
        Ranked(entry, float(score))
        for entry, score, doc in zip(entries, scores, corpus, strict=True)
        if any(token in doc for token in query_tokens)
    ]
    matches.sort(key=lambda r: -r.score)
    return matches[:top]

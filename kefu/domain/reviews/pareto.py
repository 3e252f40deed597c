"""A Pareto table: causes by count, largest first, with each one's share and the running share."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ParetoBar:
    key: str
    count: int
    share: float  # of all counted
    cumulative: float  # running share up to and including this bar


def pareto(keys: Iterable[str]) -> list[ParetoBar]:
    """Count the keys and order them largest first (ties by key, so the order is stable)."""
    counts = Counter(keys)
    total = sum(counts.values())
    bars: list[ParetoBar] = []
    running = 0
    for key, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        running += count
        bars.append(ParetoBar(key, count, count / total, running / total))
    return bars


def vital_few(bars: list[ParetoBar], cutoff: float = 0.8) -> list[ParetoBar]:
    """The bars that together make up the first `cutoff` share (at least one)."""
    chosen: list[ParetoBar] = []
    for bar in bars:
        chosen.append(bar)
        if bar.cumulative >= cutoff:
            break
    return chosen

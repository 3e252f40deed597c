"""Retries with exponential backoff, and when a message becomes a dead letter (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta


def retry_delay(attempts: int, *, base_seconds: float, max_seconds: float) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: base, 2×base, 4×base … capped at max_seconds."""
    exponent = max(0, attempts - 1)
    seconds = min(max_seconds, base_seconds * (2 ** min(exponent, 30)))
    return timedelta(seconds=seconds)


def after_failure(attempts: int, *, retryable: bool, max_attempts: int, now: datetime, base_seconds: float,
                  max_seconds: float) -> tuple[str, datetime | None]:
    """("retry", when) or ("dead", None): a permanent error, or the last allowed attempt, makes a dead letter."""
    if not retryable or attempts >= max_attempts:
        return "dead", None
    return "retry", now + retry_delay(attempts, base_seconds=base_seconds, max_seconds=max_seconds)

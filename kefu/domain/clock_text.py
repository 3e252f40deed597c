"""Reading a written date and time: ISO 8601 first, then the layouts a source is known to use."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime


def read_moment(text: str, layouts: Sequence[str]) -> datetime | None:
    """The moment written in `text` (naive unless it carries an offset), or None when no layout reads it."""
    text = text.strip()
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for layout in layouts:
        try:
            return datetime.strptime(text, layout)
        except ValueError:
            continue
    return None

"""Decoding a CSV file in record-aligned UTF-8 chunks, each with the physical line number it starts on."""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

CHUNK_BYTES = 8 << 20  # ~8 MiB of file per chunk: big enough for the columnar reader, small enough to keep memory flat


@dataclass(frozen=True, slots=True)
class TextChunk:
    """Whole CSV records as text; `first_line` is the physical line (1-based) the first record starts on."""

    text: str
    first_line: int
    bytes_read: int  # how far into the file the reader is once this chunk is out


def _record_end(text: str, quotes_before: int) -> int:
    """The index just past the last newline that ends a record (an even number of quotes before it), or 0."""
    quotes = quotes_before + text.count('"')
    end = len(text)
    while True:
        newline = text.rfind("\n", 0, end)
        if newline < 0:
            return 0
        quotes -= text.count('"', newline + 1, end)
        if quotes % 2 == 0:
            return newline + 1
        end = newline


def line_count(text: str) -> int:
    """How many physical line ends the text holds (\n, \r and \r\n each end one line)."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def skip_lines(text: str, count: int) -> int:
    """The offset just past the first `count` physical lines (newline="" semantics: \\n, \\r and \\r\\n end a line)."""
    offset = 0
    for index, line in enumerate(io.StringIO(text, newline="")):
        if index == count:
            break
        offset += len(line)
    return offset


def text_chunks(path: Path, encoding: str, errors: str, *, skip: int = 0,
                chunk_bytes: int = CHUNK_BYTES) -> Iterator[TextChunk]:
    """The file decoded chunk by chunk, after its first `skip` physical lines, every chunk ending on a record end."""
    decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
    carry, line, read = "", 1, 0
    with open(path, "rb") as fh:
        while True:
            block = fh.read(chunk_bytes)
            read += len(block)
            text = carry + decoder.decode(block, final=not block)
            if skip:
                if line_count(text) < skip + 1 and block:
                    carry = text
                    continue
                start = skip_lines(text, skip)
                line += line_count(text[:start])
                text, skip = text[start:], 0
            cut = _record_end(text, 0) if block else len(text)
            if cut == 0 and block:
                carry = text
                continue
            chunk, carry = text[:cut], text[cut:]
            if chunk:
                yield TextChunk(chunk, line, read)
                line += line_count(chunk)
            if not block:
                return

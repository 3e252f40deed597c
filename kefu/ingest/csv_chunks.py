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
    """Whole CSV records as text; `first_line` is the physical line (1-based) the first record starts on.

    A chunk with `boundary` set holds no text: it marks that every record before `bytes_read` is out and the next
    one starts exactly there, on `first_line` (a part of the file read by another reader may begin at this point)."""

    text: str
    first_line: int
    bytes_read: int  # how far into the file the reader is once this chunk is out
    boundary: bool = False


def _record_end(text: str) -> int:
    """The index just past the last newline that ends a record (an even number of quotes before it), or 0."""
    quotes = text.count('"')
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


def text_chunks(path: Path, encoding: str, errors: str, *, skip: int = 0, chunk_bytes: int = CHUNK_BYTES,
                start: int = 0, stop: int | None = None) -> Iterator[TextChunk]:
    """The file decoded chunk by chunk from byte `start`, after its first `skip` physical lines, every chunk ending
    on a record end; lines count from 1 at `start`. With `stop` (a byte just past a newline), the chunks end at it
    and a boundary chunk follows when a record ends there too; reading then goes on to the end of the file for a
    caller that keeps asking."""
    decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
    carry, line, read = "", 1, start
    with open(path, "rb") as fh:
        fh.seek(start)
        while True:
            size = chunk_bytes if stop is None or read >= stop else min(chunk_bytes, stop - read)
            block = fh.read(size)
            read += len(block)
            at_stop = bool(block) and read == stop
            text = carry + decoder.decode(block, final=not block)
            carry = ""
            if skip:
                lines = line_count(text)  # the skip-th line end is final once text follows it or it is a \n
                if block and (lines < skip or lines == skip and not text.endswith("\n")):
                    text, carry = "", text
                else:
                    start_at = skip_lines(text, skip)
                    line += line_count(text[:start_at])
                    text, skip = text[start_at:], 0
            if text:
                cut = _record_end(text) if block else len(text)
                chunk, carry = text[:cut], text[cut:]
                if chunk:
                    yield TextChunk(chunk, line, read)
                    line += line_count(chunk)
            if at_stop and not carry and not skip and not decoder.getstate()[0]:
                yield TextChunk("", line, read, boundary=True)
            if not block:
                return


def split_points(path: Path, parts: int) -> list[int]:
    """Byte offsets cutting the file into `parts` stretches of about equal size, each just past a newline byte (in
    UTF-8, GBK and gb18030 a 0x0A byte is always a line feed); fewer when no newline follows a cut. Whether a record
    really starts there is for the reader of the stretch before it to confirm (TextChunk.boundary)."""
    size = path.stat().st_size
    points: list[int] = []
    with open(path, "rb") as fh:
        for index in range(1, parts):
            position = max(size * index // parts, points[-1] if points else 0)
            fh.seek(position)
            newline = -1
            while newline < 0:
                block = fh.read(1 << 16)
                if not block:
                    break
                newline = block.find(b"\n")
                position += len(block) if newline < 0 else newline + 1
            if newline < 0 or position >= size:
                break
            points.append(position)
    return points

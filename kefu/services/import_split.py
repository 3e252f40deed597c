"""One large CSV read by several child processes at once, each from its own byte offset into its own stage file."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Iterator, Protocol

from kefu.ingest.csv_chunks import split_points
from kefu.ingest.taobao_export import ExportFile, Rejection
from kefu.services.import_rows import RowMaker
from kefu.services.import_tables import TableBatch
from kefu.services.import_worker import BackgroundReader, ReaderFailed

SPLIT_FROM_BYTES = 64 << 20  # smaller files are read by one process: a second one costs more than it saves
SPLIT_PARTS = 2  # readers for one file: the machine's two cores (more would only compete with each other)


class PartReader(Protocol):
    """What reads one part: its batches, the last one saying where it ended (TableBatch.next_line)."""

    def batches(self) -> Iterator[TableBatch]: ...

    def close(self) -> None: ...


class SplitReader:
    """Reads parts of one CSV in parallel; yields the batches in file order with line numbers of the whole file.

    Each part starts just past a newline; the part before it confirms that a record starts there (it ends on a
    boundary chunk, csv_chunks.TextChunk). When it cannot (the cut was inside a quoted cell, or the record parser
    had taken over and reads on to the end of the file, as a single reader would), that part has read everything
    after it and the later parts are dropped unread: their rows stay in stage files nobody attaches. The result is
    exactly one reader's whose chunks were cut at the same points."""

    def __init__(self, export: ExportFile, readers: list[PartReader], starts: list[int],
                 stage_paths: list[Path] | None = None):
        self.name = export.name
        self.export = export
        self.readers = readers
        self.starts = starts
        self.stage_paths = stage_paths or []
        self.used = 0  # how many parts (from the first) hold the file's rows, once read
        self._batches: list[list[TableBatch]] = [[] for _ in readers]
        self._done = [threading.Event() for _ in readers]
        self._errors: list[BaseException | None] = [None] * len(readers)
        self._read_bytes = [0] * len(readers)
        self._threads = [threading.Thread(target=self._drain, args=(i,), daemon=True) for i in range(1, len(readers))]
        for thread in self._threads:
            thread.start()

    @classmethod
    def start(cls, export: ExportFile, maker: RowMaker, now: datetime, stage_paths: list[Path],
              points: list[int]) -> SplitReader:
        """One child process per part (BackgroundReader), each staging into its own file, all started now."""
        starts = [0, *points]
        stops: list[int | None] = [*points, None]
        readers: list[PartReader] = [BackgroundReader(export, maker, now, path, start, stop)
                                     for path, start, stop in zip(stage_paths, starts, stops)]
        return cls(export, readers, starts, stage_paths)

    def _drain(self, index: int) -> None:
        """Keep a later part's pipe empty so its reader never waits for the parts before it."""
        try:
            for batch in self.readers[index].batches():
                self._read_bytes[index] = batch.bytes_read - self.starts[index]
                self._batches[index].append(batch)
        except BaseException as exc:  # noqa: BLE001 - raised in the importer's thread when the part is needed
            self._errors[index] = exc
        finally:
            self._done[index].set()

    def _progress(self) -> int:
        return sum(self._read_bytes)

    def batches(self) -> Iterator[TableBatch]:
        """Every part's batches in order; rejections renumbered to the whole file's lines."""
        offset, replaced = 0, 0
        try:
            for index, reader in enumerate(self.readers):
                if index == 0:
                    parts = reader.batches()
                else:
                    self._done[index].wait()
                    if self._errors[index] is not None:
                        raise self._errors[index]  # type: ignore[misc]
                    parts = iter(self._batches[index])
                    self._batches[index] = []
                last = None
                for batch in parts:
                    if index == 0:
                        self._read_bytes[0] = batch.bytes_read
                    last = batch
                    yield self._renumbered(batch, offset)
                self.used = index + 1
                if last is None:
                    raise ReaderFailed(f"{self.name}: a reader process sent nothing")
                replaced += last.replaced
                if last.next_line is None:
                    break  # this part read to the end of the file: the later ones are not needed
                offset += last.next_line - 1
            warning = self.export.replaced_warning(replaced)
            yield TableBatch(bytes_read=self.export.size, warnings=[warning] if warning else [])
        finally:
            self.close()

    def _renumbered(self, batch: TableBatch, offset: int) -> TableBatch:
        rejections = [r if not r.line_no or not offset else Rejection(r.line_no + offset, r.reason, r.raw)
                      for r in batch.rejections]
        return replace(batch, rejections=rejections, bytes_read=self._progress(), warnings=[], next_line=None,
                       replaced=0)

    def close(self) -> None:
        for reader in self.readers:
            reader.close()
        for thread in self._threads:
            thread.join()


def split_at(export: ExportFile, parts: int = SPLIT_PARTS) -> list[int]:
    """Where to cut a CSV export for parallel readers (none for a small file or an xlsx)."""
    if export.encoding == "xlsx" or parts < 2 or export.size < SPLIT_FROM_BYTES:
        return []
    return split_points(export.path, parts)

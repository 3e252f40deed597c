"""Reading a large export in a second process while this one writes, so an import uses both cores."""

from __future__ import annotations

import multiprocessing
import queue as queue_module
from datetime import datetime
from pathlib import Path
from typing import Iterator

from kefu.services.import_rows import RowBatch, RowMaker, row_batches

PARALLEL_FROM_BYTES = 8 << 20  # smaller files are read inline: starting a process costs more than it saves
_QUEUE_DEPTH = 4  # batches in flight; bounds memory whatever the file size


class ReaderFailed(RuntimeError):
    """The background reader stopped with an error (its message says why)."""


def _produce(out, path: str, name: str, timezone: str, shop_id: str, sqlite: bool, now: str, stubs: bool, size: int):
    from kefu.ingest.taobao_export import open_export

    try:
        export = open_export(path, display_name=name, timezone=timezone)
        maker = RowMaker(shop_id, sqlite=sqlite, now=datetime.fromisoformat(now), stub_orders=stubs)
        for batch in row_batches(export, maker, size):
            out.put(batch)
        out.put(None)
    except BaseException as exc:  # noqa: BLE001 - forwarded to the writer, which records it on the import run
        out.put(ReaderFailed(f"{name}: {exc}"))


def batches_from_background(path: Path, name: str, timezone: str, maker: RowMaker, now: datetime,
                            size: int = 2000) -> Iterator[RowBatch]:
    """The same batches as row_batches(open_export(path), maker), produced by a child process."""
    context = multiprocessing.get_context("spawn")
    channel = context.Queue(maxsize=_QUEUE_DEPTH)
    process = context.Process(
        target=_produce,
        args=(channel, str(path), name, timezone, maker.shop_id, maker.sqlite, now.isoformat(), maker.stub_orders, size),
        daemon=True,
    )
    process.start()
    try:
        while True:
            try:
                item = channel.get(timeout=1.0)
            except queue_module.Empty:
                if not process.is_alive():
                    raise ReaderFailed(f"{name}: the reader process died (exit code {process.exitcode})") from None
                continue
            if item is None:
                return
            if isinstance(item, ReaderFailed):
                raise item
            yield item
    finally:
        if process.is_alive():
            process.terminate()
        process.join(timeout=5)

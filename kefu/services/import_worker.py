"""Reading a large export in a second process while this one writes, so an import uses both cores."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Iterator

from kefu.services.import_rows import RowBatch, RowMaker, row_batches

PARALLEL_FROM_BYTES = 8 << 20  # smaller files are read inline: starting a process costs more than it saves


class ReaderFailed(RuntimeError):
    """The background reader stopped with an error (its message says why)."""


def batches_from_background(path: Path, name: str, timezone: str, maker: RowMaker, now: datetime,
                            size: int = 2000) -> Iterator[RowBatch]:
    """The same batches as row_batches(open_export(path), maker), produced by a child `python -m` process.

    The child writes pickled batches to a pipe; the pipe's buffer is the back-pressure that keeps memory bounded.
    """
    job = {"path": str(path), "name": name, "timezone": timezone, "shop_id": maker.shop_id, "sqlite": maker.sqlite,
           "now": now.isoformat(), "stubs": maker.stub_orders, "size": size}
    child = subprocess.Popen([sys.executable, "-m", __name__, json.dumps(job)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        while True:
            try:
                item = pickle.load(child.stdout)
            except EOFError:
                child.wait()
                problem = child.stderr.read().decode("utf-8", "replace").strip().splitlines()
                raise ReaderFailed(f"{name}: the reader process stopped early ({problem[-1] if problem else child.returncode})")
            if item is None:
                return
            if isinstance(item, str):
                raise ReaderFailed(item)
            yield item
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close()
        child.stderr.close()


def _produce(job: dict) -> None:
    from kefu.ingest.taobao_export import open_export

    out = sys.stdout.buffer
    try:
        export = open_export(job["path"], display_name=job["name"], timezone=job["timezone"])
        maker = RowMaker(job["shop_id"], sqlite=job["sqlite"], now=datetime.fromisoformat(job["now"]),
                         stub_orders=job["stubs"])
        for batch in row_batches(export, maker, job["size"]):
            pickle.dump(batch, out, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(None, out)
    except Exception as exc:  # noqa: BLE001 - forwarded to the writer, which records it on the import run
        pickle.dump(f"{job['name']}: {exc}", out)
    out.flush()


if __name__ == "__main__":
    _produce(json.loads(sys.argv[1]))

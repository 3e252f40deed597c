"""Reading an export into table batches, inline or in a second process, and staging them when the store is SQLite.

A large CSV is read by a child `python -m` process so the import uses both cores: on SQLite the child loads the
rows into the scratch file itself and sends back only counts, rejections and warnings; on PostgreSQL it sends the
batches' frames. Several files can be read at once while this process writes the one before.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Iterator

from kefu.ingest.taobao_export import ExportFile
from kefu.services.import_frames import column_batches
from kefu.services.import_rows import RowMaker, row_batches
from kefu.services.import_stage import Stage
from kefu.services.import_tables import FirstCustomers, ProductRefs, TableBatch, from_rows

PARALLEL_FROM_BYTES = 8 << 20  # smaller files are read inline: starting a process costs more than it saves
ROW_BATCH = 2000  # records per batch when a file (xlsx) is read row by row


class ReaderFailed(RuntimeError):
    """The background reader stopped with an error (its message says why)."""


def read_batches(export: ExportFile, maker: RowMaker, stage: Stage | None, start: int = 0,
                 stop: int | None = None) -> Iterator[TableBatch]:
    """The export's batches with lines referring to their distinct products; with a stage, the tables are loaded
    into it and the batches come back without them. A CSV may be read in part, from byte `start` to a record
    boundary at `stop` (import_split)."""
    if export.encoding == "xlsx":
        batches = (from_rows(b) for b in row_batches(export, maker, ROW_BATCH))
    else:
        batches = column_batches(export, maker, start=start, stop=stop)
    refs, customers = ProductRefs(), FirstCustomers()
    for batch in batches:
        refs.assign(batch)
        customers.keep(batch)
        if stage is not None:
            for table, frame in batch.tables.items():
                stage.add(table, frame)
            batch.tables = {}
        yield batch


class BackgroundReader:
    """A child process reading one export (and staging it, given a stage path), started at once."""

    def __init__(self, export: ExportFile, maker: RowMaker, now: datetime, stage_path: Path | None,
                 start: int = 0, stop: int | None = None):
        self.name = export.name
        job = {"path": str(export.path), "name": export.name, "timezone": export.zone.key, "shop_id": maker.shop_id,
               "sqlite": maker.sqlite, "now": now.isoformat(), "stubs": maker.stub_orders,
               "stage": str(stage_path) if stage_path else None, "start": start, "stop": stop}
        self.child = subprocess.Popen([sys.executable, "-m", __name__, json.dumps(job)], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE)

    def batches(self) -> Iterator[TableBatch]:
        """The child's batches as it sends them; the pipe's buffer is the back-pressure that bounds memory."""
        child = self.child
        try:
            while True:
                try:
                    item = pickle.load(child.stdout)
                except EOFError:
                    child.wait()
                    problem = child.stderr.read().decode("utf-8", "replace").strip().splitlines()
                    raise ReaderFailed(
                        f"{self.name}: the reader process stopped early ({problem[-1] if problem else child.returncode})")
                if item is None:
                    return
                if isinstance(item, str):
                    raise ReaderFailed(item)
                yield item
        finally:
            self.close()

    def close(self) -> None:
        child = self.child
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close()
        child.stderr.close()


def _produce(job: dict) -> None:
    from kefu.ingest.taobao_export import open_export

    out = sys.stdout.buffer
    stage = None
    try:
        export = open_export(job["path"], display_name=job["name"], timezone=job["timezone"])
        maker = RowMaker(job["shop_id"], sqlite=job["sqlite"], now=datetime.fromisoformat(job["now"]),
                         stub_orders=job["stubs"])
        stage = Stage(Path(job["stage"])) if job["stage"] else None
        for batch in read_batches(export, maker, stage, job["start"], job["stop"]):
            pickle.dump(batch, out, protocol=pickle.HIGHEST_PROTOCOL)
        if stage is not None:
            if not job["start"] and job["stop"] is None:  # a whole file: its stage is not appended to another
                stage.index_ids()
            stage.close()
        pickle.dump(None, out)
    except Exception as exc:  # noqa: BLE001 - forwarded to the writer, which records it on the import run
        pickle.dump(f"{job['name']}: {exc}", out)
    finally:
        if stage is not None:
            stage.close()
    out.flush()


if __name__ == "__main__":
    _produce(json.loads(sys.argv[1]))

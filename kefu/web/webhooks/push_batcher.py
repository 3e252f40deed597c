"""Group commit of carrier pushes: what arrives while a batch is written goes in the next one, one transaction each."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from kefu.services.tracking import IncomingPush, PushOutcome, receive_pushes
from kefu.services.tracking_batch import batch_engine
from kefu.store.database import Store

MAX_BATCH = 256  # deliveries written in one transaction at most
GATHER_SECONDS = 0.005  # at most this long spent letting a batch fill up
QUIET_TURNS = 6  # event-loop turns without a new push before the batch goes (each turn costs microseconds)


class PushBatcher:
    """While one batch is being written (in the batcher's own thread), new pushes queue up; they go together next.

    Under light load a push is written at once on its own; under heavy load the batches grow, so the commit and the
    round trips are shared. A request is answered once its batch is committed, so an acknowledgement means stored.
    One batch at a time per process, so batches never race each other inside a worker.
    """

    def __init__(self, store: Store, source: str, *, max_batch: int = MAX_BATCH,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.store = store
        self.source = source
        self.max_batch = max_batch
        self.clock = clock
        self._pending: list[tuple[IncomingPush, asyncio.Future[PushOutcome]]] = []
        self._drainer: asyncio.Task[None] | None = None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{source}-pushes")
        self._connection: Connection | None = None  # used in the writer thread only

    async def submit(self, push: IncomingPush) -> PushOutcome:
        """Queue one delivery and wait for the outcome of the batch it lands in."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[PushOutcome] = loop.create_future()
        self._pending.append((push, future))
        drainer = self._drainer
        if drainer is None or drainer.done() or drainer.get_loop() is not loop:
            self._drainer = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                await self._gather(loop)
                batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch:]
                try:
                    outcomes = await loop.run_in_executor(self._writer, self._write, [push for push, _ in batch])
                except Exception as exc:  # noqa: BLE001 - handed to every request of the batch, which re-raises it
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), outcome in zip(batch, outcomes):
                    if not future.done():
                        future.set_result(outcome)
        finally:  # quiet again: the connection goes back to the pool (queued before any later batch's write). Handed to
            # the writer without waiting, so it happens even when the loop is closing and cancels this task
            if self._drainer is asyncio.current_task():
                self._drainer = None  # a push arriving from here on starts the next drainer
            self._writer.submit(self._release)

    async def _gather(self, loop: asyncio.AbstractEventLoop) -> None:
        """Let the pushes already on their way join the batch: yield to the loop while the queue still grows.

        Requests the server has read but not yet handled reach the queue within a loop turn or two; a push on its own
        waits two turns, a burst is written together (each batch costs a few statements and a commit, whatever its size).
        """
        deadline = loop.time() + GATHER_SECONDS
        quiet = 0
        while quiet < QUIET_TURNS and len(self._pending) < self.max_batch and loop.time() < deadline:
            before = len(self._pending)
            await asyncio.sleep(0)
            quiet = quiet + 1 if len(self._pending) == before else 0

    def _write(self, pushes: Sequence[IncomingPush]) -> list[PushOutcome]:
        """In the writer thread: one batch, on the connection kept while pushes keep coming (no check-out per batch)."""
        if self._connection is None or self._connection.closed or self._connection.invalidated:
            self._connection = batch_engine(self.store).connect()
        try:
            return receive_pushes(self.store, source=self.source, pushes=pushes, now=self.clock(), connection=self._connection)
        except Exception:
            self._release()
            raise

    def _release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


def batcher_for(state: Any, source: str) -> PushBatcher:
    """The app's batcher of one carrier's pushes (one per process and store), made on first use."""
    name = f"{source}_batcher"
    batcher = getattr(state, name, None)
    if batcher is None or batcher.store is not state.store:
        batcher = PushBatcher(state.store, source)
        setattr(state, name, batcher)
    return batcher

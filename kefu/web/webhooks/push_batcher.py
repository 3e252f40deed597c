"""Group carrier pushes that arrive together into one transaction: a request waits for its batch, never for others'."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool

from kefu.services.tracking import IncomingPush, PushOutcome, receive_pushes
from kefu.store.database import Store

MAX_BATCH = 64  # deliveries written in one transaction at most


class PushBatcher:
    """While one batch is being written (in a worker thread), new pushes queue up; they go together in the next one.

    Under light load a push is written at once on its own; under heavy load the batches grow, so commits and
    round trips are shared. One batch at a time per process, so batches never race each other inside a worker.
    """

    def __init__(self, store: Store, source: str, *, max_batch: int = MAX_BATCH,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.store = store
        self.source = source
        self.max_batch = max_batch
        self.clock = clock
        self._pending: list[tuple[IncomingPush, asyncio.Future[PushOutcome]]] = []
        self._drainer: asyncio.Task[None] | None = None

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
        while self._pending:
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch:]
            try:
                outcomes = await run_in_threadpool(self._write, [push for push, _ in batch])
            except Exception as exc:  # noqa: BLE001 - handed to every request of the batch, which re-raises it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), outcome in zip(batch, outcomes):
                if not future.done():
                    future.set_result(outcome)

    def _write(self, pushes: Sequence[IncomingPush]) -> list[PushOutcome]:
        return receive_pushes(self.store, source=self.source, pushes=pushes, now=self.clock())

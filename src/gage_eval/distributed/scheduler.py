"""Work stealing over shards: each worker pulls the next shard when it has room, so a fast worker (or one
with a faster endpoint) simply takes more; nothing is split up front.

Each worker holds at most `lanes` shards at a time (one running while the next is already queued on it,
so it never idles between shards). A lost worker's unfinished samples go back to the front of the queue as
a new shard, and the driver writes a record only for a sequence number not written before: none is lost,
none is written twice.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from gage_eval.distributed.pool import WorkerHandle, WorkerPool
from gage_eval.distributed.protocol import Batch, DistributedError, Shard, WorkerLost

log = logging.getLogger("gage_eval")


class ShardScheduler:
    def __init__(self, pool: WorkerPool, task_id: str, shard_size: int, on_batch: Callable[[Shard, Batch], None],
                 lanes: int = 2) -> None:
        self.pool = pool
        self.task_id = task_id
        self.shard_size = shard_size
        self.on_batch = on_batch
        self.lanes = lanes
        self._ids = itertools.count()
        self._queue: deque[Shard] = deque()
        self._redo: deque[Shard] = deque()
        self._max_queued = lanes * max(1, pool.count)
        self._produced_all = False
        self._outstanding = 0  # shards held by workers
        self.assigned = 0  # samples held by workers and not yet reported (progress: inflight)
        self._changed = asyncio.Condition()
        self._tasks: set[asyncio.Task] = set()
        self._outcome: asyncio.Future | None = None

    @property
    def queued_samples(self) -> int:
        return sum(len(s.items) for s in self._queue) + sum(len(s.items) for s in self._redo)

    # -- task bookkeeping ----------------------------------------------------------------------------
    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        outcome = self._outcome
        if outcome is None or outcome.done():
            return
        if not task.cancelled() and task.exception() is not None:
            outcome.set_exception(task.exception())  # type: ignore[arg-type]
        elif not self._tasks:
            outcome.set_result(None)

    async def run(self, items: AsyncIterator[tuple[int, Any]]) -> None:
        self._outcome = asyncio.get_running_loop().create_future()
        self._spawn(self._produce(items))
        for worker in self.pool.live:
            self._start_lanes(worker)
        try:
            await self._outcome
        finally:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _start_lanes(self, worker: WorkerHandle) -> None:
        for _ in range(self.lanes):
            self._spawn(self._lane(worker))

    # -- producing and taking shards -----------------------------------------------------------------
    async def _produce(self, items: AsyncIterator[tuple[int, Any]]) -> None:
        batch: list[tuple[int, Any]] = []
        async for item in items:
            batch.append(item)
            if len(batch) >= self.shard_size:
                await self._put(batch)
                batch = []
        if batch:
            await self._put(batch)
        async with self._changed:
            self._produced_all = True
            self._changed.notify_all()

    async def _put(self, items: list[tuple[int, Any]]) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: len(self._queue) < self._max_queued)
            self._queue.append(Shard(next(self._ids), self.task_id, items))
            self._changed.notify_all()

    async def _take(self) -> Shard | None:
        """The next shard (redone work first), or None once everything is produced and reported."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._redo or self._queue or
                                         (self._produced_all and self._outstanding == 0))
            if not (self._redo or self._queue):
                return None
            shard = self._redo.popleft() if self._redo else self._queue.popleft()
            self._outstanding += 1
            self.assigned += len(shard.items)
            self._changed.notify_all()  # room in the queue for the producer
            return shard

    async def _settle(self, shard: Shard, redo: list[tuple[int, Any]]) -> None:
        async with self._changed:
            self._outstanding -= 1
            self.assigned -= len(shard.items) - len(shard.done)
            if redo:
                self._redo.append(Shard(next(self._ids), self.task_id, redo))
            self._changed.notify_all()

    # -- a worker's lane -----------------------------------------------------------------------------
    async def _lane(self, worker: WorkerHandle) -> None:
        while worker.alive:
            shard = await self._take()
            if shard is None:
                return
            try:
                async for batch in worker.run_shard(shard):
                    before = len(shard.done)
                    self.on_batch(shard, batch)
                    self.assigned -= len(shard.done) - before
            except WorkerLost as exc:
                redo = shard.unfinished()
                await self._settle(shard, redo)
                await self._lost(worker, str(exc), len(redo))
                return
            except BaseException:
                await self._settle(shard, [])
                raise
            await self._settle(shard, shard.unfinished())

    async def _lost(self, worker: WorkerHandle, reason: str, requeued: int) -> None:
        worker.alive = False
        if requeued:
            log.warning("%s lost (%s): its %d unfinished samples go to other workers", worker.label, reason, requeued)
            self.pool.on_event("shard_requeued", {"worker": worker.index, "task_id": self.task_id,
                                                  "samples": requeued})
        if worker.loss_handled:  # its other lane got here first
            return
        worker.loss_handled = True
        self.pool.on_event("worker_lost", {"worker": worker.index, "pid": worker.hello_info.pid
                                           if worker.hello_info else None, "reason": reason})
        try:
            replacement = await self.pool.replace(worker, reason)
        except Exception as exc:  # noqa: BLE001 - the other workers carry on
            log.warning("could not replace %s: %s", worker.label, exc)
            replacement = None
        if replacement is not None:
            self._start_lanes(replacement)
        elif not self.pool.live:
            raise DistributedError(f"every worker was lost (last: {worker.label}: {reason})",
                                   fix="see logs/ for the workers' output; finished samples are saved, rerun the "
                                       "same command to resume")

"""The Ray actor of a worker: the shard protocol's calls, answered by a ShardExecutor (see protocol.py).

Finished records come back by long polling (`next_batch` waits for what the shard has finished since the
last call) rather than Ray's streaming generators, which Ray Client (ray://) does not support.
"""
from __future__ import annotations

import asyncio
from typing import Any

from gage_eval.distributed.protocol import Batch, Hello, Shard, WorkerReport, WorkerSetup, error_info, hello


class ShardActor:
    def __init__(self) -> None:
        self.executor: Any = None
        self.shards: dict[int, asyncio.Queue] = {}
        self.pumps: dict[int, asyncio.Task] = {}

    async def hello(self) -> Hello:
        return hello()

    async def setup(self, setup: WorkerSetup) -> tuple[str, Any]:
        from gage_eval.distributed.executor import ShardExecutor

        try:
            self.executor = ShardExecutor(setup)
            return "ok", await self.executor.start()
        except Exception as exc:  # noqa: BLE001 - the driver re-raises it, naming this worker
            return "error", error_info(exc)

    async def start_shard(self, shard: Shard) -> None:
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.shards[shard.shard_id] = queue

        async def pump() -> None:
            try:
                async for batch in self.executor.run_shard(shard):
                    queue.put_nowait(("batch", batch))
                queue.put_nowait(("end", None))
            except Exception as exc:  # noqa: BLE001 - as above
                queue.put_nowait(("error", error_info(exc)))

        self.pumps[shard.shard_id] = asyncio.ensure_future(pump())

    async def next_batch(self, shard_id: int) -> tuple[str, Any]:
        """Everything the shard finished since the last call (waiting for at least one), or its end."""
        queue = self.shards[shard_id]
        kind, value = await queue.get()
        if kind != "batch":
            self._forget(shard_id)
            return kind, value
        records, events = list(value.records), list(value.events)
        while not queue.empty() and queue._queue[0][0] == "batch":  # type: ignore[attr-defined]
            more = queue.get_nowait()[1]
            records += more.records
            events += more.events
        return "batch", Batch(records, events)

    def _forget(self, shard_id: int) -> None:
        self.shards.pop(shard_id, None)
        self.pumps.pop(shard_id, None)

    async def close(self) -> WorkerReport | None:
        for task in self.pumps.values():
            task.cancel()
        return await self.executor.close() if self.executor is not None else None

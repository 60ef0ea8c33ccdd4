"""The Ray actor of a worker: the shard protocol's calls, answered by a ShardExecutor (see protocol.py)."""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from gage_eval.distributed.protocol import Hello, Shard, WorkerReport, WorkerSetup, error_info, hello


class ShardActor:
    def __init__(self) -> None:
        self.executor: Any = None

    async def hello(self) -> Hello:
        return hello()

    async def setup(self, setup: WorkerSetup) -> tuple[str, Any]:
        from gage_eval.distributed.executor import ShardExecutor

        try:
            self.executor = ShardExecutor(setup)
            return "ok", await self.executor.start()
        except Exception as exc:  # noqa: BLE001 - the driver re-raises it, naming this worker
            return "error", error_info(exc)

    async def run_shard(self, shard: Shard) -> AsyncIterator[tuple[str, Any]]:
        try:
            async for batch in self.executor.run_shard(shard):
                yield "batch", batch
        except Exception as exc:  # noqa: BLE001 - as above
            yield "error", error_info(exc)

    async def close(self) -> WorkerReport | None:
        return await self.executor.close() if self.executor is not None else None

"""The worker side: the single-node engine's pieces, fed by shards instead of the dataset.

A worker builds exactly what Runtime builds (plan_tasks, build_callers, build_adapters, StepChain) from the
driver's validated config, so each sample goes through the same step chain as in a single-node run and its
record is byte-for-byte what that run would write (timings aside). Nothing here touches the run directory.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from gage_eval.distributed.protocol import Batch, Finished, Shard, WorkerReport, WorkerSetup
from gage_eval.engine.writer import encode_record
from gage_eval.steps.chain import StepChain
from gage_eval.steps.context import StepContext

_FLUSH_S = 0.02  # a batch collects what finishes within 20 ms of its first record: few messages, little delay


class RelayTrace:
    """Events a step emits on the worker travel to the driver with the next batch (events.jsonl is its own)."""

    def __init__(self) -> None:
        self.pending: list[tuple[str, dict[str, Any], str | None]] = []

    def emit(self, event: str, payload: dict[str, Any] | None = None, sample_id: str | None = None) -> None:
        self.pending.append((event, payload or {}, sample_id))

    def drain(self) -> list[tuple[str, dict[str, Any], str | None]]:
        out, self.pending = self.pending, []
        return out


class ShardExecutor:
    def __init__(self, setup: WorkerSetup) -> None:
        self.setup = setup
        self.trace = RelayTrace()
        self.callers: dict[str, Any] = {}
        self.adapters: dict[str, Any] = {}
        self.chains: dict[str, StepChain] = {}
        self.slots: dict[str, asyncio.Semaphore] = {}
        self.cache: Any = None
        self.replay: Any = None
        self.sample_events = setup.settings.sample_events

    async def start(self) -> list[str]:
        """Build the engine pieces and run the pre-flight from this worker; return its warnings."""
        from gage_eval.engine.build import build_adapters, build_callers, build_prompts, plan_tasks
        from gage_eval.engine.preflight import preflight_backends
        from gage_eval.engine.response_cache import ResponseCache
        from gage_eval.roles.base import RoleResources

        cfg, settings = self.setup.cfg, self.setup.settings
        plans = plan_tasks(cfg, settings)
        if cfg.replay is not None:  # the earlier run's directory, as the driver sees it (one machine, or shared)
            from gage_eval.engine.replay import ReplaySource

            self.replay = ReplaySource(cfg.replay, settings.base_dir)
        if settings.use_cache:  # the driver's cache file: one machine, or a shared file system
            self.cache = ResponseCache(settings.cache_path or settings.output_dir / ".cache" / "responses.sqlite")
        self.callers = build_callers(cfg, settings, self.cache, self.setup.endpoints)
        warnings: list[str] = []
        preflight = next((v for v in (settings.preflight, cfg.execution.preflight) if v is not None), True)
        if preflight:
            warnings = await preflight_backends(self.callers, cache_on=self.cache is not None)
        pool_size = max(p.concurrency for p in plans)
        resources = RoleResources(self.callers, build_prompts(cfg), pool_size, Path(self.setup.run_dir),
                                  extra={"base_dir": settings.base_dir})
        self.adapters = build_adapters(cfg, resources)
        for plan in plans:
            self.chains[plan.task_id] = StepChain(plan.steps, self.adapters, plan.metrics, plan.failure_policy,
                                                  self.trace, self.replay)
            self.slots[plan.task_id] = asyncio.Semaphore(plan.concurrency)
        return warnings

    async def _one(self, task_id: str, seq: int, sample: Any, out: asyncio.Queue) -> None:
        try:
            async with self.slots[task_id]:
                ctx = await self.chains[task_id].run(StepContext(task_id, seq, sample))
            line = encode_record(ctx.to_record())
            out.put_nowait(Finished(seq, sample.id, ctx.error, ctx.metrics if self.sample_events else None, line))
        except BaseException as exc:  # noqa: BLE001 - handed to run_shard, which raises it to the driver
            out.put_nowait(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise

    async def run_shard(self, shard: Shard) -> AsyncIterator[Batch]:
        """Yield finished records in small batches as they complete (not at the end of the shard), so a lost
        worker costs only the samples it had not reported."""
        out: asyncio.Queue[Finished | BaseException] = asyncio.Queue()
        tasks = [asyncio.ensure_future(self._one(shard.task_id, seq, sample, out)) for seq, sample in shard.items]
        remaining = len(tasks)
        try:
            while remaining:
                first = await out.get()
                await asyncio.sleep(_FLUSH_S)
                got = [first] + [out.get_nowait() for _ in range(out.qsize())]
                for item in got:
                    if isinstance(item, BaseException):
                        raise item
                remaining -= len(got)
                yield Batch(got, self.trace.drain())  # type: ignore[arg-type]
        finally:
            for task in tasks:
                task.cancel()

    async def close(self) -> WorkerReport:
        try:
            for adapter in self.adapters.values():
                await adapter.aclose()
            for caller in self.callers.values():
                await caller.backend.aclose()
        finally:
            if self.cache is not None:
                self.cache.close()
            if self.replay is not None:
                self.replay.close()
        cache = self.cache
        return WorkerReport({k: c.stats for k, c in self.callers.items()},
                            cache.hits if cache else 0, cache.misses if cache else 0, time.process_time())

"""The driver's view of its workers, whatever carries the shard protocol (processes or Ray actors).

A pool starts workers (hello → version check → setup), replaces a lost one while restarts remain, and
merges their request statistics at the end. Transports implement `WorkerHandle` and a `spawn` function.
"""
from __future__ import annotations

import abc
import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from gage_eval.distributed.protocol import (
    Batch,
    DistributedError,
    Hello,
    Shard,
    WorkerReport,
    WorkerSetup,
    check_versions,
    local_versions,
)
from gage_eval.engine.model_call import RequestStats

log = logging.getLogger("gage_eval")


class WorkerHandle(abc.ABC):
    index: int
    alive: bool = True
    loss_handled: bool = False
    hello_info: Hello | None = None

    @property
    def label(self) -> str:
        info = self.hello_info
        return f"worker {self.index}" + (f" (pid {info.pid} on {info.host})" if info else "")

    @abc.abstractmethod
    async def hello(self) -> Hello: ...

    @abc.abstractmethod
    async def setup(self, setup: WorkerSetup) -> list[str]:
        """Build the engine on the worker; its pre-flight warnings. Raises the worker's error."""

    @abc.abstractmethod
    def run_shard(self, shard: Shard) -> AsyncIterator[Batch]:
        """Finished records as they come; raises WorkerLost when the worker dies."""

    @abc.abstractmethod
    async def close(self) -> WorkerReport | None: ...

    @abc.abstractmethod
    async def kill(self) -> None: ...


Spawn = Callable[[int], Awaitable[WorkerHandle]]
SetupFor = Callable[[int], WorkerSetup]


class WorkerPool:
    def __init__(self, spawn: Spawn, setup_for: SetupFor, count: int, restarts: int,
                 on_event: Callable[[str, dict[str, Any]], None], start_timeout_s: float = 120.0) -> None:
        self._spawn = spawn
        self._setup_for = setup_for
        self.count = count
        self.restarts_left = restarts
        self.on_event = on_event
        self.start_timeout_s = start_timeout_s
        self.workers: list[WorkerHandle] = []
        self.preflight_warnings: list[str] = []
        self._reports: list[WorkerReport] = []
        self._driver_versions = local_versions()

    async def _start_one(self, index: int) -> WorkerHandle:
        worker = await self._spawn(index)
        try:
            worker.hello_info = await asyncio.wait_for(worker.hello(), self.start_timeout_s)
            check_versions(self._driver_versions, worker.hello_info, worker.label)
            warnings = await asyncio.wait_for(worker.setup(self._setup_for(index)), self.start_timeout_s)
        except asyncio.TimeoutError:
            await worker.kill()
            raise DistributedError(f"worker {index} did not start within {self.start_timeout_s:.0f} s",
                                   fix="check that the cluster has a free CPU per worker (fewer --workers) and "
                                       "see logs/ for the worker's output") from None
        except BaseException:
            await worker.kill()
            raise
        self.preflight_warnings += [w for w in warnings if w not in self.preflight_warnings]
        self.on_event("worker_started", {"worker": index, "pid": worker.hello_info.pid,
                                         "host": worker.hello_info.host})
        return worker

    async def start(self) -> None:
        """Start every worker concurrently; any failure stops them all before a sample is sent."""
        results = await asyncio.gather(*(self._start_one(i) for i in range(self.count)), return_exceptions=True)
        self.workers = [r for r in results if isinstance(r, WorkerHandle)]
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            await self.kill()
            raise errors[0]

    @property
    def live(self) -> list[WorkerHandle]:
        return [w for w in self.workers if w.alive]

    async def replace(self, lost: WorkerHandle, reason: str) -> WorkerHandle | None:
        """A new worker for a lost one while restarts remain; None when none remain."""
        if self.restarts_left <= 0:
            return None
        self.restarts_left -= 1
        worker = await self._start_one(lost.index)
        self.workers.append(worker)
        self.on_event("worker_replaced", {"worker": lost.index, "pid": worker.hello_info.pid if worker.hello_info
                                          else None, "reason": reason})
        return worker

    async def close(self) -> dict[str, RequestStats]:
        """Close live workers politely (their request statistics come back), then make sure all are gone."""
        async def close_one(worker: WorkerHandle) -> None:
            try:
                report = await asyncio.wait_for(worker.close(), 30)
            except Exception as exc:  # noqa: BLE001 - a worker that cannot report still has to go
                log.warning("%s did not close cleanly: %s", worker.label, exc)
                report = None
            if report is not None:
                self._reports.append(report)

        await asyncio.gather(*(close_one(w) for w in self.live))
        await self.kill()
        return merge_stats(self._reports)

    async def kill(self) -> None:
        await asyncio.gather(*(w.kill() for w in self.workers), return_exceptions=True)

    @property
    def workers_cpu_s(self) -> float:
        """CPU seconds of the workers that reported at close (start-up included)."""
        return sum(r.cpu_s for r in self._reports)

    @property
    def cache_counts(self) -> tuple[int, int]:
        return sum(r.cache_hits for r in self._reports), sum(r.cache_misses for r in self._reports)


def merge_stats(reports: list[WorkerReport]) -> dict[str, RequestStats]:
    merged: dict[str, RequestStats] = {}
    for report in reports:
        for key, stats in report.backends.items():
            into = merged.setdefault(key, RequestStats())
            for name in ("requests", "retries", "errors", "cache_hits", "prompt_tokens", "completion_tokens"):
                setattr(into, name, getattr(into, name) + getattr(stats, name))
            into.latencies_ms.extend(stats.latencies_ms)
    return merged

"""The driver side of a distributed run, as Runtime uses it: start the workers, run each task's samples as
shards, write what comes back. The driver alone writes the run directory, through the same writer,
resume state, events and completion rules as a single-node run, so every tool that reads a run works
unchanged and the summary (computed from samples.jsonl) equals the single-node one.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from gage_eval.distributed.options import DistributedOptions
from gage_eval.distributed.pool import WorkerPool
from gage_eval.distributed.protocol import Batch, Shard, WorkerSetup
from gage_eval.distributed.scheduler import ShardScheduler
from gage_eval.engine.resume import ResumeState
from gage_eval.engine.sample_loop import Completions, pending_samples
from gage_eval.engine.writer import SamplesWriter
from gage_eval.observability.progress import LoopStats
from gage_eval.observability.trace import EventTrace
from gage_eval.sample import Sample


class DistributedRun:
    """What Runtime holds for a distributed run: the workers (or, with scoring_only, the Ray connection)."""

    def __init__(self, opts: DistributedOptions, cfg: Any, settings: Any, run_dir: Path, trace: EventTrace) -> None:
        self.opts = opts
        self.cfg = cfg
        self.settings = settings
        self.run_dir = run_dir
        self.trace = trace
        self.pool: WorkerPool | None = None
        self._ray_connected = False
        self._where = "--ray-address" if settings.ray_address else "execution.distributed.ray_address"

    @property
    def runs_samples(self) -> bool:
        """False with scoring_only: samples run here, only metrics go out."""
        return not self.opts.scoring_only

    def _connect_ray(self) -> None:
        from gage_eval.distributed import ray_pool

        address = self.opts.ray_address
        assert address is not None
        self._ray_connected = ray_pool.connect(address, self.opts.workers, self._where)

    def spread_scoring(self, plans: list[Any]) -> None:
        from gage_eval.distributed.ray_scoring import spread_metrics

        self._connect_ray()
        self.trace.emit("scoring_spread", {"address": self.opts.ray_address})
        spread_metrics(plans, self.opts.runtime_env)

    async def start(self, launched: dict[str, dict[str, Any]]) -> list[str]:
        """Connect (Ray) or spawn (processes), check every worker's environment, build the engine on each;
        the workers' pre-flight warnings."""
        opts, workers = self.opts, self.opts.workers
        if opts.transport == "ray":
            from gage_eval.distributed import ray_pool

            self._connect_ray()
            workers = workers or ray_pool.cluster_cpus()
            ray_pool.check_capacity(workers)
            spawn = ray_pool.spawner(opts.runtime_env)
        else:
            from gage_eval.distributed import processes

            spawn = processes.spawner(self.run_dir / "logs", (opts.runtime_env or {}).get("env_vars"))
        assert workers is not None

        def setup_for(index: int) -> WorkerSetup:
            endpoints = {key: dict(entry) for key, entry in launched.items()}
            for key, entry in opts.endpoints_for(index).items():
                endpoints.setdefault(key, {}).update(entry)
            return WorkerSetup(self.cfg, self.settings, index, endpoints, str(self.run_dir))

        restarts = opts.restarts if opts.restarts is not None else workers
        self.pool = WorkerPool(spawn, setup_for, workers, restarts,
                               lambda event, payload: self.trace.emit(event, payload))
        self.trace.emit("workers_starting", {"transport": opts.transport, "workers": workers,
                                             "address": opts.ray_address})
        await self.pool.start()
        return self.pool.preflight_warnings

    def loop(self, plan: Any, samples: Callable[[], Iterator[Sample]], writer: SamplesWriter, resume: ResumeState,
             stats: LoopStats) -> DistributedLoop:
        assert self.pool is not None
        return DistributedLoop(plan.task_id, samples, self.pool, writer, self.trace, resume, stats,
                               plan.failure_policy, self.opts.shard_size or plan.concurrency,
                               sample_events=self.settings.sample_events)

    async def finish(self, graceful: bool) -> tuple[dict[str, Any], tuple[int, int]]:
        """Stop the workers (politely after a normal end: their request statistics come back) and leave Ray.
        Returns (backend stats by caller key, (cache hits, misses))."""
        stats: dict[str, Any] = {}
        try:
            if self.pool is not None:
                if graceful:
                    stats = await self.pool.close()
                else:
                    await self.pool.kill()
        finally:
            if self._ray_connected:
                import ray

                ray.shutdown()
        return stats, self.pool.cache_counts if self.pool else (0, 0)


class DistributedLoop:
    """A task's samples through the worker pool; the same interface to Runtime as SampleLoop."""

    def __init__(self, task_id: str, samples: Callable[[], Iterator[Sample]], pool: WorkerPool,
                 writer: SamplesWriter, trace: EventTrace, resume: ResumeState, stats: LoopStats,
                 failure_policy: str, shard_size: int, *, sample_events: bool = False) -> None:
        self.task_id = task_id
        self._samples = samples
        self.writer = writer
        self.trace = trace
        self.resume = resume
        self.stats = stats
        self.completions = Completions(task_id, writer, trace, stats, failure_policy, sample_events)
        self.scheduler = ShardScheduler(pool, task_id, shard_size, self._on_batch)
        self._written = bytearray()  # one flag per sequence number: a record is never written twice

    def queue_depth(self) -> int:
        self.stats.inflight = self.scheduler.assigned
        return self.scheduler.queued_samples

    def _first_time(self, seq: int) -> bool:
        if seq >= len(self._written):
            self._written.extend(bytes(max(seq + 1 - len(self._written), len(self._written))))
        if self._written[seq]:
            return False
        self._written[seq] = 1
        return True

    def _on_batch(self, shard: Shard, batch: Batch) -> None:
        for event, payload, sample_id in batch.events:
            self.trace.emit(event, payload, sample_id)
        fresh = []
        for record in batch.records:
            if record.seq in shard.done:
                continue
            shard.done.add(record.seq)
            if self._first_time(record.seq):
                fresh.append(record)
        if fresh:
            self.writer.write_lines([record.line for record in fresh])
        for record in fresh:
            self.completions.finished(record.sample_id, record.error, record.metrics)

    async def run(self) -> None:
        await self.scheduler.run(pending_samples(self._samples, self.resume.done.get(self.task_id), self.stats))

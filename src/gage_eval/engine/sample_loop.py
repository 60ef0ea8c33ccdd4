"""SampleLoop: stream samples through a bounded queue into `concurrency` workers (spec §5.5.1).

Backpressure: the producer blocks when `max_inflight` samples are between loading and writing, and
the queue holds at most `prefetch_factor × concurrency` loaded samples, so memory stays flat whatever
the dataset size. Loading and preprocessing run in a worker thread, batch by batch.

The two halves of a sample's life are shared with the distributed driver (distributed/driver.py):
`pending_samples` (what still needs doing, after resume) and `Completions` (what happens when a finished
record comes back: on disk first, then counts, events and the failure policy).
"""
from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from gage_eval.engine.resume import ResumeState
from gage_eval.engine.writer import SamplesWriter
from gage_eval.observability.progress import LoopStats
from gage_eval.observability.trace import EventTrace
from gage_eval.sample import Sample
from gage_eval.steps.chain import StepChain
from gage_eval.steps.context import StepContext

_BATCH = 128


class FailFast(Exception):
    """Raised when a sample fails under the fail_fast policy."""

    def __init__(self, sample_id: str, error: dict) -> None:
        super().__init__(f"sample '{sample_id}' failed in step {error.get('step')}: {error.get('message')}")
        self.sample_id = sample_id
        self.error = error


@dataclass(frozen=True)
class LoopLimits:
    concurrency: int
    prefetch_factor: int
    max_inflight: int


def _take(iterator: Iterator[tuple[int, Sample]], n: int) -> list[tuple[int, Sample]]:
    return list(itertools.islice(iterator, n))


async def pending_samples(samples: Callable[[], Iterator[Sample]], done_ids: set[str] | None,
                          stats: LoopStats) -> AsyncIterator[tuple[int, Sample]]:
    """(sequence number, sample) of every sample an earlier attempt did not finish, read in a thread."""
    iterator = enumerate(samples())
    while True:
        batch = await asyncio.to_thread(_take, iterator, _BATCH)
        if not batch:
            return
        for seq, sample in batch:
            if done_ids is not None and sample.id in done_ids:
                stats.skipped += 1
                continue
            yield seq, sample


class Completions:
    """A finished sample: its line is in samples.jsonl before it counts as done."""

    def __init__(self, task_id: str, writer: SamplesWriter, trace: EventTrace, stats: LoopStats,
                 failure_policy: str, sample_events: bool) -> None:
        self.task_id = task_id
        self.writer = writer
        self.trace = trace
        self.stats = stats
        self.fail_fast = failure_policy == "fail_fast"
        self.sample_events = sample_events

    def finished(self, sample_id: str, error: dict[str, Any] | None, metrics: dict[str, Any] | None) -> None:
        """Count a sample whose record was just written; raise FailFast when the policy says stop."""
        if error is not None:
            self.stats.failed += 1
            self.trace.emit("sample_failed", {"task_id": self.task_id, "error": error}, sample_id)
            if self.fail_fast:
                raise FailFast(sample_id, error)
        else:
            self.stats.done += 1
            if self.sample_events:
                self.trace.emit("sample_done", {"task_id": self.task_id, "metrics": metrics}, sample_id)


class SampleLoop:
    def __init__(self, task_id: str, samples: Callable[[], Iterator[Sample]], chain: StepChain,
                 writer: SamplesWriter, trace: EventTrace, resume: ResumeState, limits: LoopLimits,
                 stats: LoopStats, *, sample_events: bool = False) -> None:
        self.task_id = task_id
        self._samples = samples
        self.chain = chain
        self.writer = writer
        self.resume = resume
        self.limits = limits
        self.stats = stats
        self.completions = Completions(task_id, writer, trace, stats, chain.failure_policy, sample_events)
        self.queue: asyncio.Queue[tuple[int, Sample] | None] = asyncio.Queue(
            maxsize=limits.prefetch_factor * limits.concurrency)
        self._inflight = asyncio.Semaphore(limits.max_inflight)

    async def _produce(self) -> None:
        async for item in pending_samples(self._samples, self.resume.done.get(self.task_id), self.stats):
            await self._inflight.acquire()
            await self.queue.put(item)
            self.stats.queue_depth = self.queue.qsize()
        for _ in range(self.limits.concurrency):
            await self.queue.put(None)

    async def _work(self) -> None:
        stats = self.stats
        while True:
            item = await self.queue.get()
            if item is None:
                return
            seq, sample = item
            stats.inflight += 1
            stats.queue_depth = self.queue.qsize()
            try:
                ctx = await self.chain.run(StepContext(self.task_id, seq, sample))
                self.writer.write(ctx.to_record())
            finally:
                stats.inflight -= 1
                self._inflight.release()
            self.completions.finished(sample.id, ctx.error, ctx.metrics)

    def queue_depth(self) -> int:
        return self.queue.qsize()

    async def run(self) -> None:
        """Run to completion. On failure or cancellation every sibling is cancelled; what was written stays."""
        await run_all([self._produce(), *(self._work() for _ in range(self.limits.concurrency))])


async def run_all(coroutines: list) -> None:
    """Like asyncio.TaskGroup (3.11+), but re-raises the first error itself rather than a group."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

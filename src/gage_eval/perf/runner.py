"""Drive one or more concurrency levels: closed loop at `parallel`, or Poisson arrivals at `rate` (capped
at `parallel` in flight), for `number` requests or `duration` seconds, after excluded warm-up requests."""
from __future__ import annotations

import asyncio
import itertools
import math
import random
import time
from dataclasses import dataclass
from typing import Any, Callable

import aiohttp

from gage_eval.perf.client import PerfTarget, RequestRecord, send
from gage_eval.perf.prompts import PerfRequest
from gage_eval.perf.stats import PERCENTILES, level_stats


@dataclass(frozen=True)
class LoadPlan:
    parallel: list[int]
    number: int | None
    duration_s: float | None
    rate: float  # math.inf = closed loop
    warmup: int
    seed: int
    percentiles: tuple[int, ...] = PERCENTILES


@dataclass
class LevelResult:
    parallel: int
    stats: dict[str, Any]
    records: list[RequestRecord]


def _session(target: PerfTarget, parallel: int, headers: dict[str, str]) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=parallel, keepalive_timeout=60),
        timeout=aiohttp.ClientTimeout(total=target.timeout_s, sock_connect=min(10.0, target.timeout_s)),
        headers={"Content-Type": "application/json", **headers})


async def _run_level(target: PerfTarget, requests: list[PerfRequest], parallel: int, plan: LoadPlan,
                     headers: dict[str, str], on_done: Callable[[RequestRecord], None] | None) -> LevelResult:
    source = itertools.cycle(requests)
    async with _session(target, parallel, headers) as session:
        if plan.warmup:
            # Open every connection of the pool (and warm server caches) before timing: otherwise the first
            # `parallel` requests would carry TCP set-up in their TTFT. Excluded from the figures.
            t_w = time.perf_counter()
            await asyncio.gather(*(send(session, target, next(source), RequestRecord(parallel, 0.0), t_w)
                                   for _ in range(max(plan.warmup, parallel))))
        records: list[RequestRecord] = []
        t0 = time.perf_counter()
        deadline = t0 + plan.duration_s if plan.duration_s else math.inf
        budget = itertools.count() if plan.number is None else iter(range(plan.number))

        def finish(record: RequestRecord) -> None:
            records.append(record)
            if on_done:
                on_done(record)

        if plan.rate == math.inf:
            async def worker() -> None:  # closed loop: each worker sends its next request when one returns
                for _ in budget:
                    if time.perf_counter() >= deadline:
                        return
                    finish(await send(session, target, next(source), RequestRecord(parallel, 0.0), t0))

            await asyncio.gather(*(worker() for _ in range(parallel)))
        else:
            await _poisson(session, target, source, parallel, plan, budget, deadline, t0, finish)
        elapsed = time.perf_counter() - t0
    return LevelResult(parallel, level_stats(records, elapsed, parallel, plan.rate, plan.percentiles), records)


async def _poisson(session: aiohttp.ClientSession, target: PerfTarget, source: Any, parallel: int, plan: LoadPlan,
                   budget: Any, deadline: float, t0: float, finish: Callable[[RequestRecord], None]) -> None:
    """Open loop: arrivals at exponential gaps; at most `parallel` in flight (later arrivals wait for a slot)."""
    rng = random.Random(plan.seed + parallel)
    slots = asyncio.Semaphore(parallel)
    pending: set[asyncio.Task[None]] = set()

    async def one(request: PerfRequest) -> None:
        try:
            finish(await send(session, target, request, RequestRecord(parallel, 0.0), t0))
        finally:
            slots.release()

    next_arrival = t0
    for _ in budget:
        next_arrival += rng.expovariate(plan.rate)
        delay = next_arrival - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if time.perf_counter() >= deadline:
            break
        await slots.acquire()
        task = asyncio.ensure_future(one(next(source)))
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        await asyncio.gather(*pending)


async def run_levels(target: PerfTarget, requests: list[PerfRequest], plan: LoadPlan, headers: dict[str, str],
                     on_level: Callable[[LevelResult], None] | None = None,
                     on_done: Callable[[RequestRecord], None] | None = None,
                     count_tokens: Callable[[str], int] | None = None) -> list[LevelResult]:
    results = []
    for parallel in plan.parallel:
        result = await _run_level(target, requests, parallel, plan, headers, on_done)
        if count_tokens is not None:
            for r in result.records:
                if r.success and r.token_source == "chunks":
                    r.output_tokens, r.token_source = count_tokens(r.text), "tokenizer"
            result.stats = level_stats(result.records, result.stats["duration"], parallel, plan.rate, plan.percentiles)
        results.append(result)
        if on_level:
            on_level(result)
    return results

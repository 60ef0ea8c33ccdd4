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
        if plan.warmup:  # warm connections and server caches; excluded from the figures
            t_w = time.perf_counter()
            await asyncio.gather(*(send(session, target, next(source), RequestRecord(parallel, 0.0), t_w)
                                   for _ in range(min(plan.warmup, parallel))))
        records: list[RequestRecord] = []
        rng = random.Random(plan.seed + parallel)
        slots = asyncio.Semaphore(parallel)
        t0 = time.perf_counter()
        deadline = t0 + plan.duration_s if plan.duration_s else math.inf
        limit = plan.number if plan.number is not None else math.inf
        issued = 0
        pending: set[asyncio.Task[RequestRecord]] = set()

        async def one(request: PerfRequest) -> RequestRecord:
            try:
                record = await send(session, target, request, RequestRecord(parallel, 0.0), t0)
            finally:
                slots.release()
            records.append(record)
            if on_done:
                on_done(record)
            return record

        next_arrival = t0
        while issued < limit and time.perf_counter() < deadline:
            if plan.rate != math.inf:
                next_arrival += rng.expovariate(plan.rate)
                delay = next_arrival - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            await slots.acquire()
            if time.perf_counter() >= deadline:
                slots.release()
                break
            task = asyncio.ensure_future(one(next(source)))
            pending.add(task)
            task.add_done_callback(pending.discard)
            issued += 1
        if pending:
            await asyncio.gather(*pending)
        elapsed = time.perf_counter() - t0
    return LevelResult(parallel, level_stats(records, elapsed, parallel, plan.rate, plan.percentiles), records)


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

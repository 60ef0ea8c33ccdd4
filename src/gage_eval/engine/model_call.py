"""One place where model requests are made: retries with backoff, the response cache, request stats."""
from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from gage_eval.backends.base import Backend, GenerationRequest, GenerationResponse
from gage_eval.engine.response_cache import ResponseCache, cache_key
from gage_eval.errors import BackendError


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        # Full jitter (AWS architecture blog) spreads retries of many workers; Retry-After is a floor.
        backoff = random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))
        return max(backoff, retry_after or 0.0)


@dataclass
class RequestStats:
    requests: int = 0
    retries: int = 0
    errors: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    inflight: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        lat = sorted(self.latencies_ms)

        def pct(q: float) -> float | None:
            return lat[min(len(lat) - 1, int(q * len(lat)))] if lat else None
        return {"requests": self.requests, "retries": self.retries, "errors": self.errors,
                "cache_hits": self.cache_hits, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "latency_ms": {"p50": pct(0.5), "p95": pct(0.95), "max": lat[-1] if lat else None}}


class ModelCaller:
    """Wraps a backend for roles. Shared by all role instances of the same backend."""

    _LATENCY_SAMPLE_CAP = 100_000  # bounded memory for long runs

    def __init__(self, backend: Backend, retry: RetryPolicy, cache: ResponseCache | None = None) -> None:
        self.backend = backend
        self.retry = retry
        self.cache = cache
        self.stats = RequestStats()
        self._identity = backend.identity()
        # Set when the pre-flight found the backend unusable but the run went on for the response cache:
        # cache misses then fail at once with that reason instead of retrying a dead server.
        self.unavailable: BackendError | None = None

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        key = cache_key(self._identity, request) if self.cache else None
        if key and self.cache:
            hit = await self.cache.get(key)
            if hit is not None:
                self.stats.cache_hits += 1
                return hit
        response = await self._with_retries(lambda: self.backend.generate(request))
        if key and self.cache:
            await self.cache.put(key, response)
        return response

    async def loglikelihood(self, context: str | list[dict[str, Any]], continuations: list[str]
                            ) -> list[tuple[float, bool]]:
        """Per-continuation (sum of log-probabilities, is_greedy); cached and retried like generations.
        A list context is chat messages (the backend renders them with the model's chat template)."""
        # The cache stores GenerationResponses: a scoring request is keyed as a prompt plus a marker param.
        request = GenerationRequest(prompt=context if isinstance(context, str) else None,
                                    messages=[] if isinstance(context, str) else list(context),
                                    params={"loglikelihood_continuations": list(continuations)})
        key = cache_key(self._identity, request) if self.cache else None
        if key and self.cache:
            hit = await self.cache.get(key)
            if hit is not None:
                self.stats.cache_hits += 1
                return [(float(ll), bool(greedy)) for ll, greedy in hit.logprobs]

        async def call() -> GenerationResponse:
            scores = await self.backend.loglikelihood(context, list(continuations))
            return GenerationResponse(text="", logprobs=[[float(ll), bool(g)] for ll, g in scores])
        response = await self._with_retries(call)
        if key and self.cache:
            await self.cache.put(key, response)
        return [(float(ll), bool(greedy)) for ll, greedy in response.logprobs]

    async def _with_retries(self, call: Callable[[], Awaitable[GenerationResponse]]) -> GenerationResponse:
        if self.unavailable is not None:
            self.stats.errors += 1
            raise self.unavailable.clone()
        attempt = 0
        while True:
            attempt += 1
            self.stats.requests += 1
            self.stats.inflight += 1
            start = time.perf_counter()
            try:
                response = await call()
            except BackendError as exc:
                self.stats.errors += 1
                if not exc.retryable or attempt >= self.retry.max_attempts:
                    raise
                self.stats.retries += 1
                await asyncio.sleep(self.retry.delay(attempt, exc.retry_after))
                continue
            finally:
                self.stats.inflight -= 1
            if response.latency_ms is None:
                response.latency_ms = (time.perf_counter() - start) * 1000
            if len(self.stats.latencies_ms) < self._LATENCY_SAMPLE_CAP:
                self.stats.latencies_ms.append(response.latency_ms)
            self.stats.prompt_tokens += int(response.usage.get("prompt_tokens", 0) or 0)
            self.stats.completion_tokens += int(response.usage.get("completion_tokens", 0) or 0)
            return response

"""Pre-flight: every backend is checked, concurrently, before the first sample is sent.

A dead server or a wrong key otherwise fails every sample one by one, each after its retries; checked
here, the run stops within seconds with one reason and its fix. With the response cache on, a failed
check does not stop the run (a fully cached rerun needs no server): the backend is marked unavailable,
so cache hits are served and cache misses fail at once with the pre-flight's reason.
"""
from __future__ import annotations

import asyncio
import logging

from gage_eval.engine.model_call import ModelCaller
from gage_eval.errors import BackendError, PreflightError

log = logging.getLogger("gage_eval")


async def preflight_backends(callers: dict[str, ModelCaller], *, cache_on: bool) -> list[str]:
    """Probe each backend; raise PreflightError for the first unusable one (unless `cache_on`); return warnings."""
    keys = list(callers)
    results = await asyncio.gather(*(callers[k].backend.preflight() for k in keys), return_exceptions=True)
    warnings: list[str] = []
    for key, result in zip(keys, results):
        if isinstance(result, BackendError):
            if not cache_on:
                raise PreflightError(result, backend=key)
            callers[key].unavailable = result
            warnings.append(f"backend '{key}' failed its pre-flight ({result.reason}: {result.message}); "
                            "continuing because --use-cache is on: cached answers are served, cache misses fail")
        elif isinstance(result, BaseException):
            raise result
        else:
            warnings += [f"backend '{key}': {w}" for w in result]
    for warning in warnings:
        log.warning("pre-flight: %s", warning)
    return warnings

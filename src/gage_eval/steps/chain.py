"""StepChain: runs one sample through the configured steps under the task's failure policy."""
from __future__ import annotations

import asyncio
import time
import traceback
from typing import Any

from gage_eval.config.models import StepSpec
from gage_eval.errors import BackendError, GageError
from gage_eval.metrics.base import Metric
from gage_eval.registry import registry
from gage_eval.roles.base import RoleAdapter
from gage_eval.steps.context import StepContext


class StepChain:
    def __init__(self, steps: list[StepSpec], adapters: dict[str, RoleAdapter], metrics: list[Metric],
                 failure_policy: str, trace: Any = None, replay: Any = None) -> None:
        self.metrics = metrics
        self.failure_policy = failure_policy
        self.trace = trace
        self._plan = []
        predict_steps = 0  # the n-th inference/arena step replays the n-th recorded predict_result
        for spec in steps:
            if spec.step == "report":
                continue
            if replay is not None and spec.step in replay.steps:
                self._plan.append((spec.step, replay.step(predict_steps), None))
            else:
                self._plan.append((spec.step, registry.get("pipeline_steps", spec.step),
                                   adapters[spec.adapter_id] if spec.adapter_id else None))
            predict_steps += spec.step in ("inference", "arena")

    async def run(self, ctx: StepContext) -> StepContext:
        try:
            for name, step, adapter in self._plan:
                if ctx.error is not None and not (self.failure_policy == "best_effort" and name == "auto_eval"):
                    continue
                start = time.perf_counter()
                try:
                    await step(ctx, adapter, self)
                except Exception as exc:  # noqa: BLE001 - recorded per sample, policy decides what happens next
                    ctx.error = describe_error(name, exc)
                ctx.timings_ms[name] = (time.perf_counter() - start) * 1000
        finally:
            # The sample's resources (tool servers, sandboxes) are released on every way out, Ctrl-C included.
            await asyncio.shield(ctx.scope.aclose()) if _cancelling() else await ctx.scope.aclose()
        return ctx


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and bool(getattr(task, "cancelling", lambda: 0)())


def describe_error(step: str, exc: BaseException) -> dict[str, Any]:
    kind = type(exc).__name__
    # `reason` is the failure class of the failure table and summary.json; a backend names its own.
    out: dict[str, Any] = {"step": step, "type": kind, "reason": kind, "message": str(exc)[:2000]}
    if isinstance(exc, BackendError):
        out["reason"] = exc.reason
        out["status"] = exc.status
        out["retryable"] = exc.retryable
        if exc.fix:
            out["fix"] = exc.fix
    elif isinstance(exc, GageError):  # a problem of this sample's data (e.g. its image): said plainly, no traceback
        out["reason"] = str(getattr(exc, "reason", kind))
        out["message"] = exc.message[:2000]
        if exc.fix:
            out["fix"] = exc.fix
    else:
        out["traceback"] = "".join(traceback.format_exception(exc, limit=-3))[-2000:]
    return out

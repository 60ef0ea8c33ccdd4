"""Per-sample execution state shared by the steps of one chain."""
from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from gage_eval.sample import Sample, compact_media, resolve_model_output

log = logging.getLogger("gage_eval")


class SampleScope:
    """What lives exactly as long as one sample's pass through the chain, for every lane.

    `resources`: objects steps hand to later steps of the same sample (a toolchain's ToolBox for the agent, a
    sandbox session for a judge). Cleanups registered on it run when the sample leaves the chain — after its
    last step, on an error, and on cancellation (Ctrl-C) — before the record is written.
    `trajectory`: a multi-turn record (an agent's conversation, a game's moves) written to samples.jsonl
    under `trajectory` even when the sample fails half-way (so the failure can be read); any object with
    `to_dict()` or a plain dict (see sample.Trajectory for the fields the report shows).
    """

    def __init__(self, task_id: str = "", sample_id: str = "") -> None:
        self.task_id = task_id
        self.sample_id = sample_id
        self.resources: dict[str, Any] = {}
        self.trajectory: Any = None
        self.cleanup_errors: list[str] = []
        self._stack = contextlib.AsyncExitStack()

    async def enter(self, cm: Any) -> Any:
        return await self._stack.enter_async_context(cm)

    def on_close(self, callback: Any, *args: Any) -> None:
        self._stack.push_async_callback(callback, *args)

    async def aclose(self) -> None:
        try:
            await self._stack.aclose()
        except Exception as exc:  # noqa: BLE001 - a cleanup problem must not cost the sample its result
            self.cleanup_errors.append(f"{type(exc).__name__}: {exc}")
            log.warning("sample cleanup failed: %s: %s", type(exc).__name__, exc)

    def trajectory_dict(self) -> dict[str, Any] | None:
        traj = self.trajectory
        if traj is None:
            return None
        return traj.to_dict() if hasattr(traj, "to_dict") else dict(traj)


@dataclass(slots=True)
class StepContext:
    task_id: str
    seq: int
    sample: Sample
    judge_output: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    metric_details: dict[str, Any] = field(default_factory=dict)
    timings_ms: dict[str, float] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    scope: SampleScope = field(default_factory=SampleScope)

    def __post_init__(self) -> None:
        self.scope.task_id, self.scope.sample_id = self.task_id, self.sample.id

    @property
    def model_output(self) -> dict[str, Any]:
        return resolve_model_output(self.sample)

    def compact_model_output(self) -> dict[str, Any]:
        """The latest output without the message envelope, which predict_result already carries."""
        out = self.model_output
        out.pop("message", None)
        return out

    def to_record(self) -> dict[str, Any]:
        """The samples.jsonl line for this sample."""
        record = self._base_record()
        trajectory = self.scope.trajectory_dict()
        if trajectory is not None:
            record["trajectory"] = trajectory
        if self.scope.cleanup_errors:
            record["cleanup_errors"] = self.scope.cleanup_errors
        return record

    def _base_record(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "sample_id": self.sample.id,
            "seq": self.seq,
            "status": "failed" if self.error else "ok",
            # Inline media (data URLs) is stored as its hash: the modal_processor leaves references only, and
            # samples.jsonl must not grow by megabytes of base64 per sample when it did not run.
            "sample": compact_media(self.sample.model_dump(mode="json", exclude={"predict_result", "eval_result"})),
            "model_output": self.compact_model_output(),
            "predict_result": [p.model_dump(mode="json", exclude_none=True) for p in self.sample.predict_result],
            "judge_output": self.judge_output,
            "metrics": self.metrics,
            "metric_details": self.metric_details,
            "error": self.error,
            "timings_ms": self.timings_ms,
        }

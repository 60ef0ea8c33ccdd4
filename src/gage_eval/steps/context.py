"""Per-sample execution state shared by the steps of one chain."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gage_eval.sample import Sample, compact_media, resolve_model_output


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

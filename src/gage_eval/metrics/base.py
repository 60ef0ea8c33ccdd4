"""Metric base classes (spec §6.2). A metric turns one finished sample into named float values."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gage_eval.sample import Sample

_MISSING = object()


@dataclass(slots=True)
class MetricContext:
    sample: Sample
    model_output: dict[str, Any]
    judge_output: dict[str, Any]

    def get(self, dotted: str, default: Any = None) -> Any:
        """Read `model_output.answer`, `judge_output.score`, `sample.metadata.x`, `sample.label`..."""
        head, _, rest = dotted.partition(".")
        roots: dict[str, Any] = {"model_output": self.model_output, "judge_output": self.judge_output,
                                 "sample": self.sample}
        if head not in roots:
            raise KeyError(f"'{dotted}' must start with model_output, judge_output or sample")
        value: Any = roots[head]
        for part in rest.split(".") if rest else []:
            if isinstance(value, dict):
                value = value.get(part, _MISSING)
            elif isinstance(value, list) and part.isdigit():
                value = value[int(part)] if int(part) < len(value) else _MISSING
            else:
                value = getattr(value, part, _MISSING)
            if value is _MISSING:
                return default
        return default if value is None else value

    @property
    def prediction(self) -> str:
        return str(self.model_output.get("answer") or "")

    @property
    def references(self) -> list[Any]:
        s = self.sample
        if s.references:
            return list(s.references)
        if s.label is not None:
            return [s.label]
        for key in ("label", "answer", "target"):
            if key in s.metadata:
                return [s.metadata[key]]
        return []


@dataclass(slots=True)
class MetricResult:
    values: dict[str, float | list[float]]  # a list: several observations of this sample, micro-averaged
    details: dict[str, Any] = field(default_factory=dict)


class Metric:
    """Base class. `metric_id` names the output; `params` come validated from the config."""

    def __init__(self, metric_id: str, **params: Any) -> None:
        self.metric_id = metric_id
        self.params = params

    def evaluate(self, context: MetricContext) -> MetricResult:
        raise NotImplementedError

    async def aevaluate(self, context: MetricContext) -> MetricResult:
        """The step calls this; override it where scoring waits on I/O or a subprocess (code execution)."""
        return self.evaluate(context)


class SimpleMetric(Metric):
    """One value per sample. `compute_value` returns a number or (number, details)."""

    value_key: str | None = None  # descriptive only: the value is reported under the metric id

    def compute_value(self, context: MetricContext) -> float | tuple[float, dict[str, Any]]:
        raise NotImplementedError

    def evaluate(self, context: MetricContext) -> MetricResult:
        out = self.compute_value(context)
        value, details = out if isinstance(out, tuple) else (out, {})
        return MetricResult({self.metric_id: float(value)}, details)

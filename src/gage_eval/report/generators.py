"""Summary generators: streaming consumers of sample records that add a section to summary.json."""
from __future__ import annotations

from collections import Counter
from typing import Any

from gage_eval.metrics.aggregate import MetricAggregator
from gage_eval.registry import registry


@registry.asset("summary_generators", "judge_usage", desc="judge calls, attempts, unparsed verdicts and tokens",
                tags=("judge",))
class JudgeUsage:
    def __init__(self, **_: Any) -> None:
        self.calls = 0
        self.unparsed = 0
        self.attempts = 0
        self.tokens: Counter[str] = Counter()

    def add(self, record: dict[str, Any]) -> None:
        judge = record.get("judge_output") or {}
        if "judge_adapter" not in judge:
            return
        calls = judge.get("judge_calls") or {judge["judge_adapter"]: {
            "attempts": judge.get("judge_attempts", 1), "unparsed": judge.get("unparsed"),
            "usage": judge.get("judge_usage")}}
        for call in calls.values():
            self.calls += 1
            self.attempts += int(call.get("attempts", 1))
            self.unparsed += bool(call.get("unparsed"))
            self.tokens.update({k: int(v or 0) for k, v in (call.get("usage") or {}).items()})

    def result(self) -> dict[str, Any]:
        return {"calls": self.calls, "attempts": self.attempts, "unparsed": self.unparsed,
                "tokens": dict(self.tokens)}


@registry.asset("summary_generators", "unparsed_answers", desc="count answers a metric could not parse",
                tags=("metrics",))
class UnparsedAnswers:
    def __init__(self, **_: Any) -> None:
        self.counts: Counter[str] = Counter()

    def add(self, record: dict[str, Any]) -> None:
        for metric_id, details in (record.get("metric_details") or {}).items():
            if isinstance(details, dict) and details.get("unparsed"):
                self.counts[f"{record['task_id']}/{metric_id}"] += 1

    def result(self) -> dict[str, Any]:
        return dict(self.counts)


@registry.asset("summary_generators", "metric_breakdown", desc="metrics per group of a sample field, e.g. MMLU "
                "per subject (params: field = metadata.subject, task_id)", tags=("metrics",))
class MetricBreakdown:
    """Each group's metrics aggregated like the task's (mean with stderr): `{group: {metric: {...}}}`. A field
    holding a list (MathVista's skills) puts the sample in the group of each of its values."""

    def __init__(self, field: str = "metadata.subject", task_id: str | None = None, **_: Any) -> None:
        self.path = field.split(".")
        self.task_id = task_id
        self.groups: dict[str, Any] = {}

    def add(self, record: dict[str, Any]) -> None:
        if (self.task_id and record.get("task_id") != self.task_id) or not record.get("metrics"):
            return
        value: Any = record.get("sample") or {}
        for part in self.path:
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            return
        for item in dict.fromkeys(map(str, value)) if isinstance(value, list) else [value]:
            key = f"{record.get('task_id')}/{item}" if not self.task_id else str(item)
            self.groups.setdefault(key, MetricAggregator()).add(record["metrics"])

    def result(self) -> dict[str, Any]:
        return {group: agg.results() for group, agg in sorted(self.groups.items())}

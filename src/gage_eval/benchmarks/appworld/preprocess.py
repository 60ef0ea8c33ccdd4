"""The `appworld` preprocessor and scoring: a task -> the supervisor and instruction; AppWorld's test report -> tgc.

`appworld_tgc` reads the test tracker AppWorld's `evaluate` returned (``success``: every test of the task passed)
— Task Goal Completion per task. `appworld_goal_completion` aggregates as AppWorld's ``Metric._compute_metrics``:
TGC = mean success over tasks, SGC = mean over scenarios (the task id before "_") of the worst task's success, both
in percent rounded to 0.1.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from gage_eval.datasets.preprocess import BasePreprocessor, RecordError
from gage_eval.metrics.base import MetricContext, SimpleMetric
from gage_eval.registry import registry


@registry.asset("dataset_preprocessors", "appworld", desc="AppWorld tasks -> the supervisor and the instruction",
                tags=("appworld", "agents"))
class AppWorldPreprocessor(BasePreprocessor):
    required_fields = ("task_id", "instruction")

    def to_sample(self, record: dict[str, Any], **_: Any) -> dict[str, Any]:
        task_id = str(record["task_id"])
        if task_id.count("_") != 1:
            raise RecordError(f"AppWorld task ids look like <scenario>_<n>, not {task_id!r}", "task_id")
        sup = record.get("supervisor") or {}
        who = " ".join(str(sup.get(k, "")) for k in ("first_name", "last_name")).strip()
        contact = ", ".join(f"{k}: {sup[k]}" for k in ("email", "phone_number") if sup.get(k))
        text = (f"My name is {who}. My personal information: {contact}.\n\n" if who else "") + \
            f"Task: {record['instruction']}"
        return {"id": task_id, "messages": [{"role": "user", "content": text}],
                "metadata": {"scenario_id": task_id.split("_")[0], "appworld_root": record.get("root"),
                             "datetime": record.get("datetime")}}


@registry.asset("metrics", "appworld_tgc", desc="AppWorld Task Goal Completion: every test of the task passed "
                "(AppWorld's own evaluate)", tags=("appworld", "agents"))
class AppWorldTgc(SimpleMetric):
    def compute_value(self, context: MetricContext) -> tuple[float, dict[str, Any]]:
        report = context.model_output.get("appworld_evaluation")
        if not isinstance(report, dict) or "success" not in report:
            raise ValueError(f"sample {context.sample.id!r} has no AppWorld evaluation: appworld_tgc needs the "
                             "appworld_agent role")
        return float(bool(report["success"])), {
            "num_tests": report.get("num_tests"), "difficulty": report.get("difficulty"),
            "passed": len(report.get("passes") or []), "failed": [f.get("requirement") for f in
                                                                  report.get("failures") or []][:20]}


def goal_completion(successes: dict[str, bool]) -> dict[str, float]:
    """{task_id: success} -> AppWorld's task_goal_completion and scenario_goal_completion (percent)."""
    scenarios: dict[str, list[float]] = defaultdict(list)
    for task_id, ok in successes.items():
        scenarios[task_id.split(":")[0].split("_")[0]].append(float(ok))
    scores = [s for v in scenarios.values() for s in v]
    worst = [min(v) for v in scenarios.values()]
    return {"task_goal_completion": round(100 * round(sum(scores) / len(scores), 4), 1) if scores else 0.0,
            "scenario_goal_completion": round(100 * round(sum(worst) / len(worst), 4), 1) if worst else 0.0,
            "tasks": len(scores), "scenarios": len(worst)}


@registry.asset("summary_generators", "appworld_goal_completion", desc="AppWorld's TGC and SGC over the run's tasks",
                tags=("appworld", "agents"))
class AppWorldGoalCompletion:
    run_wide = True

    def __init__(self, **_: Any) -> None:
        self.successes: dict[str, bool] = {}

    def add(self, record: dict[str, Any]) -> None:
        value = (record.get("metrics") or {}).get("appworld_tgc")
        if isinstance(value, (int, float)):
            self.successes[str(record.get("sample_id"))] = value >= 1.0

    def result(self) -> dict[str, Any]:
        return goal_completion(self.successes) if self.successes else {}

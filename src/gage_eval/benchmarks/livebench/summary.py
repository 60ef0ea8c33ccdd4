"""`livebench` summary section and task metrics: LiveBench's leaderboard numbers, on its 0-100 scale.

As ``show_livebench_result.py`` computes them: a task's score is the mean of its questions' scores x 100; a
category's is the mean of its tasks' scores (tasks weigh equally, whatever their size); the overall score is
the mean of the categories' scores. Unscored questions (tasks not covered here) take no part and are counted.

Task metrics added to the run's task (hence to summary.json ``tasks[].metrics``, results.md, report.html and
``gage view``): ``livebench_overall``, ``livebench_<category>`` and ``livebench_<category>/<task>``, each with
its stderr and a 95% normal interval (the stderr of a mean of means: per task the sample stderr of its
questions, combined as sqrt(sum se^2) / k at each level), and ``livebench_unscored`` (a count).
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Any

from gage_eval.benchmarks.livebench.loader import CATEGORIES
from gage_eval.metrics.aggregate import Z95
from gage_eval.registry import registry

SCALE = 100.0
CI_METHOD = "normal approximation (mean ± 1.96 stderr of a mean of task means), clipped to [0, 100]"
AGGREGATION = "livebench"  # a mean of means, not a mean over samples


def _task_stat(values: list[float]) -> tuple[float, float | None]:
    n = len(values)
    mean = math.fsum(values) / n
    if n < 2:
        return mean * SCALE, None
    variance = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    return mean * SCALE, math.sqrt(variance / n) * SCALE


def _mean_of(parts: list[tuple[float, float | None]]) -> tuple[float, float | None]:
    value = math.fsum(p[0] for p in parts) / len(parts)
    if any(p[1] is None for p in parts):
        return value, None
    return value, math.sqrt(math.fsum(p[1] ** 2 for p in parts)) / len(parts)  # type: ignore[operator]


def _agg(value: float, stderr: float | None, count: int) -> dict[str, Any]:
    out: dict[str, Any] = {"value": value, "stderr": stderr, "count": count, "aggregation": AGGREGATION,
                           "scale": SCALE}
    if stderr is not None:
        out["ci95"] = [max(0.0, value - Z95 * stderr), min(SCALE, value + Z95 * stderr)]
        out["ci_method"] = CI_METHOD
    return out


class _Tally:
    def __init__(self) -> None:
        self.scores: dict[tuple[str, str], list[float]] = {}
        self.unscored: Counter[tuple[str, str]] = Counter()
        self.reasons: dict[tuple[str, str], str] = {}
        self.eval_errors = 0
        self.flags: Counter[str] = Counter()
        self.release: set[str] = set()

    def add(self, record: dict[str, Any]) -> None:
        details = (record.get("metric_details") or {}).get("livebench")
        if not isinstance(details, dict):
            return
        key = (str(details.get("category")), str(details.get("task")))
        release = ((record.get("sample") or {}).get("metadata") or {}).get("release_filter")
        if release:
            self.release.add(str(release))
        status = details.get("status")
        if status == "unscored":
            self.unscored[key] += 1
            self.reasons.setdefault(key, str(details.get("reason") or ""))
            return
        score = (record.get("metrics") or {}).get("livebench_score")
        if not isinstance(score, (int, float)):
            return
        self.scores.setdefault(key, []).append(float(score))
        self.eval_errors += status == "eval_error"
        if details.get("flag"):
            self.flags[str(details["flag"])] += 1

    def levels(self) -> tuple[dict[tuple[str, str], tuple[float, float | None]], dict[str, tuple[float, float | None]]]:
        tasks = {key: _task_stat(values) for key, values in sorted(self.scores.items())}
        categories: dict[str, tuple[float, float | None]] = {}
        for category in sorted({c for c, _ in tasks}, key=lambda c: (CATEGORIES + (c,)).index(c)):
            categories[category] = _mean_of([v for (c, _), v in tasks.items() if c == category])
        return tasks, categories

    def metrics(self) -> dict[str, dict[str, Any]]:
        tasks, categories = self.levels()
        sizes = {key: len(values) for key, values in self.scores.items()}
        out: dict[str, dict[str, Any]] = {}
        if categories:
            out["livebench_overall"] = _agg(*_mean_of(list(categories.values())), sum(sizes.values()))
        for category, (value, stderr) in categories.items():
            out[f"livebench_{category}"] = _agg(value, stderr, sum(n for (c, _), n in sizes.items() if c == category))
        for (category, task), (value, stderr) in tasks.items():
            out[f"livebench_{category}/{task}"] = _agg(value, stderr, sizes[(category, task)])
        total = sum(self.unscored.values())
        out["livebench_unscored"] = {"value": float(total), "stderr": None, "count": total, "aggregation": "sum"}
        return out

    def section(self) -> dict[str, Any]:
        tasks, categories = self.levels()
        unscored = {f"{c}/{t}": {"count": n, "reason": self.reasons[(c, t)]} for (c, t), n in sorted(self.unscored.items())}
        return {
            "scale": "0-100",
            "release": sorted(self.release)[0] if len(self.release) == 1 else sorted(self.release),
            "overall": round(_mean_of(list(categories.values()))[0], 4) if categories else None,
            "categories": {c: {"score": round(v, 4), "tasks": sorted(t for k, t in tasks if k == c)}
                           for c, (v, _) in categories.items()},
            "tasks": {f"{c}/{t}": {"category": c, "task": t, "score": round(v, 4), "questions": len(self.scores[(c, t)])}
                      for (c, t), (v, _) in tasks.items()},
            "unscored": {"questions": sum(self.unscored.values()), "by_task": unscored},
            "complete": not self.unscored,
            "eval_errors": self.eval_errors,
            "sympy_unconfirmed": self.flags.get("llm_fallback", 0),
        }


@registry.asset("summary_generators", "livebench", desc="LiveBench leaderboard numbers (0-100): per task, per "
                "category (mean of task means), overall (mean of categories); unscored questions counted",
                tags=("livebench",))
class LiveBenchSummary:
    """params: task_id (only that task's records; without it, one section per task)."""

    def __init__(self, task_id: str | None = None, **_: Any) -> None:
        self.task_id = task_id
        self.tallies: dict[str, _Tally] = {}

    def add(self, record: dict[str, Any]) -> None:
        task_id = str(record.get("task_id"))
        if self.task_id and task_id != self.task_id:
            return
        self.tallies.setdefault(task_id, _Tally()).add(record)

    def task_metrics(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Derived metrics merged into each task's metrics in summary.json (see report.summary)."""
        return {task_id: tally.metrics() for task_id, tally in self.tallies.items()}

    def result(self) -> dict[str, Any]:
        if self.task_id:
            return self.tallies.get(self.task_id, _Tally()).section()
        return {task_id: tally.section() for task_id, tally in sorted(self.tallies.items())}

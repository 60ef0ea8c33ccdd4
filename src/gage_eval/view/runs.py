"""Discovering runs in a directory and reading what the viewer lists about each."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gage_eval.report.artifacts import is_run_dir, load_run

_STEP = re.compile(r"(?:checkpoint|ckpt|step|global_step|iter)[-_]?(\d+)", re.I)


@dataclass
class RunEntry:
    run_id: str
    path: Path
    status: str
    summary: dict[str, Any] | None
    step: int | None

    def task_metrics(self) -> dict[str, float | None]:
        """`task / metric` -> value: a metric is only meaningful with its task (gsm8k / exact_match)."""
        out: dict[str, float | None] = {}
        for task in (self.summary or {}).get("tasks") or []:
            if isinstance(task, dict):
                for name, agg in (task.get("metrics") or {}).items():
                    if isinstance(agg, dict):
                        out[metric_key(task.get("task_id"), name)] = agg.get("value")
        return out

    def metric(self, key: str) -> float | None:
        return self.task_metrics().get(key)


def metric_key(task_id: object, metric: str) -> str:
    return f"{task_id} / {metric}"


def checkpoint_step(run_id: str, summary: dict[str, Any] | None) -> int | None:
    meta = ((summary or {}).get("run") or {})
    for value in (meta.get("checkpoint_step"), meta.get("step")):
        if isinstance(value, int):
            return value
    match = _STEP.search(run_id) or _STEP.search(str(meta.get("config_name") or ""))
    return int(match.group(1)) if match else None


def list_runs(root: Path) -> list[RunEntry]:
    runs = []
    for path in sorted(p for p in root.iterdir() if is_run_dir(p)) if root.is_dir() else []:
        info = load_run(path)
        runs.append(RunEntry(path.name, path, info.status, info.summary, checkpoint_step(path.name, info.summary)))
    return runs


def resolve_run(root: Path, run_id: str) -> Path | None:
    """Only direct children of the runs directory; anything else (../, absolute paths) is not a run."""
    if not run_id or "/" in run_id or "\\" in run_id or run_id in (".", ".."):
        return None
    path = root / run_id
    return path if is_run_dir(path) else None

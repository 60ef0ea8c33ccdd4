"""Split one pipeline into a generate phase and an evaluate phase.

The generate phase keeps the steps that produce the model's answers (support, inference, arena) and only the
role adapters and backends they use: no judge is built or probed while the model's server is up. The evaluate
phase is the whole pipeline with those model steps replayed from the generate run (config `replay:`), so it
judges and scores with no server of the evaluated model.
"""
from __future__ import annotations

import copy
from typing import Any

from gage_eval.engine.replay import PREDICT_STEPS

GENERATE_STEPS = ("support", *PREDICT_STEPS)


def _step_lists(pipeline: dict[str, Any]) -> list[list[dict[str, Any]]]:
    lists = [(pipeline.get("custom") or {}).get("steps") or []]
    lists += [t["steps"] for t in pipeline.get("tasks") or [] if t.get("steps") is not None]
    return lists


def generate_only(pipeline: dict[str, Any], keep: tuple[str, ...] = GENERATE_STEPS) -> dict[str, Any]:
    """The pipeline (a config dict) reduced to its answer-producing steps (`keep`), with no metrics or judges."""
    out = copy.deepcopy(pipeline)
    if (out.get("custom") or {}).get("steps"):
        out["custom"]["steps"] = [s for s in out["custom"]["steps"] if s.get("step") in keep]
    for task in out.get("tasks") or []:
        if task.get("steps") is not None:
            task["steps"] = [s for s in task["steps"] if s.get("step") in keep]
        task["metric_overrides"] = []
    used_adapters = {s.get("adapter_id") or s.get("role_ref") for steps in _step_lists(out) for s in steps}
    out["role_adapters"] = [a for a in out.get("role_adapters") or [] if a["adapter_id"] in used_adapters]
    used_backends = {a.get("backend_id") for a in out["role_adapters"]}
    out["backends"] = [b for b in out.get("backends") or [] if b.get("backend_id") in used_backends]
    used_prompts = {a.get("prompt_id") for a in out["role_adapters"]}
    out["prompts"] = [p for p in out.get("prompts") or [] if p["prompt_id"] in used_prompts]
    out["metrics"] = []
    out["summary_generators"] = []
    return out


def evaluate_with_replay(pipeline: dict[str, Any], generate_run_dir: str) -> dict[str, Any]:
    """The whole pipeline, with its model steps' answers read from the generate run."""
    out = copy.deepcopy(pipeline)
    out["replay"] = {"run_dir": str(generate_run_dir), "steps": list(PREDICT_STEPS)}
    return out

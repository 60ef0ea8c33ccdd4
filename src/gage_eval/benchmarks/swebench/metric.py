"""`swebench_resolved` metric and the `swebench_report` summary section (with predictions.jsonl)."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from gage_eval.metrics.base import Metric, MetricContext, MetricResult
from gage_eval.registry import registry

REASONS = ("resolved", "tests_failed", "patch_apply_failed", "empty_patch", "timeout", "build_error", "repo_not_found")


@registry.asset("metrics", "swebench_resolved", desc="SWE-bench resolved (1/0) from the swebench judge's verdict",
                tags=("swebench",))
class SWEBenchResolved(Metric):
    def evaluate(self, ctx: MetricContext) -> MetricResult:
        judge = ctx.judge_output or {}
        if "resolved" not in judge:
            raise ValueError("no swebench verdict: the task needs a judge step with judge_extend swebench_local or "
                             "swebench_docker")
        tests = judge.get("tests") or {}
        f2p = tests.get("FAIL_TO_PASS") or {}
        return MetricResult({self.metric_id: 1.0 if judge["resolved"] else 0.0},
                            {"reason": judge.get("reason"), "status": judge.get("status"),
                             "f2p_fixed": len(f2p.get("success") or []), "f2p_total":
                             len(f2p.get("success") or []) + len(f2p.get("failure") or [])})


@registry.asset("summary_generators", "swebench_report", desc="SWE-bench: resolved per repo, failure reasons, "
                "FAIL_TO_PASS / PASS_TO_PASS counts; writes predictions.jsonl", tags=("swebench",))
class SWEBenchReport:
    def __init__(self, task_id: str | None = None, model_name: str = "gage", run_dir: Any = None, **_: Any) -> None:
        self.task_id, self.model_name, self.run_dir = task_id, model_name, run_dir
        self.reasons: Counter[str] = Counter()
        self.repos: dict[str, list[int]] = {}
        self.tests = Counter()
        self.predictions: list[dict[str, Any]] = []

    def add(self, record: dict[str, Any]) -> None:
        if self.task_id and record.get("task_id") != self.task_id:
            return
        sample = record.get("sample") or {}
        inst = (sample.get("metadata") or {}).get("instance")
        if not inst:
            return
        judge = record.get("judge_output") or {}
        reason = judge.get("reason") or ("error" if record.get("status") != "ok" else "no_verdict")
        self.reasons[reason] += 1
        counts = self.repos.setdefault(inst["repo"], [0, 0])
        counts[0] += bool(judge.get("resolved"))
        counts[1] += 1
        for kind in ("FAIL_TO_PASS", "PASS_TO_PASS"):
            part = (judge.get("tests") or {}).get(kind) or {}
            self.tests[f"{kind}_success"] += len(part.get("success") or [])
            self.tests[f"{kind}_failure"] += len(part.get("failure") or [])
        if "model_patch" in judge:
            self.predictions.append({"instance_id": inst["instance_id"], "model_name_or_path": self.model_name,
                                     "model_patch": judge["model_patch"]})

    def result(self) -> dict[str, Any]:
        if self.run_dir is not None and self.predictions:
            path = Path(self.run_dir) / "predictions.jsonl"  # SWE-bench's format: the official CLI re-judges it
            path.write_text("".join(json.dumps(p) + "\n" for p in sorted(self.predictions,
                                                                        key=lambda p: p["instance_id"])))
        total = sum(self.reasons.values())
        return {"instances": total, "resolved": self.reasons.get("resolved", 0),
                "resolved_rate": self.reasons.get("resolved", 0) / total if total else None,
                "reasons": dict(sorted(self.reasons.items())),
                "per_repo": {repo: {"resolved": r, "instances": n, "rate": r / n}
                             for repo, (r, n) in sorted(self.repos.items())},
                "tests": dict(sorted(self.tests.items())),
                **({"predictions": "predictions.jsonl"} if self.predictions else {})}

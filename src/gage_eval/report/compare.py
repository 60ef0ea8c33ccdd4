"""Compare runs of the same tasks: metric differences with paired significance tests on shared samples.

Binary (0/1) metrics use McNemar's exact test on the discordant pairs; other metrics a paired bootstrap of
the mean difference (seeded). Only samples present and scored in both runs are paired.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gage_eval.report.artifacts import load_run
from gage_eval.report.summary import iter_records

ALPHA = 0.05


@dataclass
class MetricComparison:
    task_id: str
    metric: str
    value_a: float | None
    value_b: float | None
    n_paired: int
    diff: float | None  # mean over paired samples of (b - a)
    p_value: float | None
    test: str
    significant: bool
    b_better: list[str] = field(default_factory=list)  # sample ids right in B, wrong in A (binary metrics)
    a_better: list[str] = field(default_factory=list)


def _values(run_dir: Path) -> dict[tuple[str, str], dict[str, float]]:
    out: dict[tuple[str, str], dict[str, float]] = {}
    for record in iter_records(run_dir / "samples.jsonl"):
        if record.get("metrics"):
            out[(record["task_id"], record["sample_id"])] = record["metrics"]
    return out


def mcnemar_exact(b_only: int, a_only: int) -> float:
    from scipy.stats import binomtest

    n = a_only + b_only
    return 1.0 if n == 0 else float(binomtest(b_only, n, 0.5).pvalue)


def paired_bootstrap(diffs: np.ndarray, rounds: int = 2000, seed: int = 0) -> float:
    """Two-sided p-value for mean(diffs) == 0 by resampling the centred differences."""
    if diffs.size < 2 or np.all(diffs == diffs[0]):
        return 1.0 if diffs.size == 0 or diffs[0] == 0 else 0.0
    rng = np.random.default_rng(seed)
    observed = abs(diffs.mean())
    centred = diffs - diffs.mean()
    means = centred[rng.integers(0, diffs.size, size=(rounds, diffs.size))].mean(axis=1)
    return float((np.sum(np.abs(means) >= observed) + 1) / (rounds + 1))


def compare_runs(run_a: Path, run_b: Path) -> list[MetricComparison]:
    va, vb = _values(run_a), _values(run_b)
    summary_a, summary_b = load_run(run_a).summary or {}, load_run(run_b).summary or {}

    def overall(summary: dict[str, Any], task: str, metric: str) -> float | None:
        for t in summary.get("tasks", []):
            if t["task_id"] == task:
                return (t.get("metrics", {}).get(metric) or {}).get("value")
        return None

    keys = sorted({(t, m) for (t, _), ms in va.items() for m in ms} & {(t, m) for (t, _), ms in vb.items() for m in ms})
    results = []
    for task, metric in keys:
        shared = [(sid, va[(t, sid)][metric], vb[(t, sid)][metric]) for (t, sid) in va
                  if t == task and (t, sid) in vb and va[(t, sid)].get(metric) is not None
                  and vb[(t, sid)].get(metric) is not None]
        a = np.array([x[1] for x in shared], dtype=float)
        b = np.array([x[2] for x in shared], dtype=float)
        binary = bool(shared) and set(np.unique(np.concatenate([a, b]))) <= {0.0, 1.0}
        comp = MetricComparison(task, metric, overall(summary_a, task, metric), overall(summary_b, task, metric),
                                len(shared), float((b - a).mean()) if shared else None, None,
                                "mcnemar-exact" if binary else "paired-bootstrap", False)
        if shared:
            if binary:
                comp.b_better = [sid for sid, x, y in shared if y > x]
                comp.a_better = [sid for sid, x, y in shared if x > y]
                comp.p_value = mcnemar_exact(len(comp.b_better), len(comp.a_better))
            else:
                comp.p_value = paired_bootstrap(b - a)
            comp.significant = comp.p_value < ALPHA
        results.append(comp)
    return results

"""The sweep's scores: each model's headline scores from its evaluate runs, the best checkpoint per benchmark,
and whether it is significantly better than the last checkpoint.

The test is paired over the samples both checkpoints answered: McNemar's exact test for 0/1 scores, a paired
bootstrap of the mean difference otherwise (report/compare.py, as `gage compare` and `gage view` use). For
AlpacaEval the headline is the length-controlled win rate, a model-level figure; the test pairs the per-sample
preferences (the win rate), which is what the two checkpoints share sample by sample.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gage_eval.report.compare import ALPHA, mcnemar_exact, paired_bootstrap
from gage_eval.report.summary import iter_records
from gage_eval.sweep.benchmarks import Headline, Score, SweepBenchmark
from gage_eval.sweep.models import SweepModel


@dataclass
class ModelRow:
    name: str
    step: int | None
    status: str  # ok | server_failed | not evaluated
    scores: dict[str, Score] = field(default_factory=dict)  # headline key -> score
    notes: dict[str, str] = field(default_factory=dict)  # benchmark -> why there is no score


@dataclass
class BestVsLast:
    benchmark: str
    headline: Headline
    best: str
    last: str
    best_value: float
    last_value: float
    n_paired: int = 0
    diff: float | None = None  # mean paired difference (best - last), in points
    p_value: float | None = None
    test: str | None = None

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < ALPHA

    def sentence(self) -> str:
        if self.best == self.last:
            return f"the last checkpoint ({self.last}) is the best"
        if self.p_value is None:
            return f"best {self.best} vs last {self.last}: no shared samples to test"
        verdict = "significantly better" if self.significant else "not significantly better"
        what = f" of per-sample {self.headline.paired_metric}" if (self.headline.read or
                                                                   self.headline.sample_metric) else ""
        return (f"best {self.best} vs last {self.last}: {self.diff:+.1f} points{what} on {self.n_paired} shared "
                "samples, "
                f"p = {self.p_value:.3g} ({self.test}): {verdict} (α = {ALPHA})")


def _summary(run_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((run_dir / "summary.json").read_text())
    except (OSError, ValueError):
        return None


def collect(root: Path, models: list[SweepModel], benches: list[SweepBenchmark], state: dict[str, Any]
            ) -> list[ModelRow]:
    rows = []
    for model in models:
        info = state.get("models", {}).get(model.name, {})
        row = ModelRow(model.name, model.step, info.get("status") or "ok")
        for bench in benches:
            run_dir = root / "runs" / f"{model.name}__{bench.name}"
            summary = _summary(run_dir)
            if summary is None:
                unit = state.get("units", {}).get(f"{model.name}__{bench.name}", {})
                row.notes[bench.name] = ("server failed" if row.status == "server_failed" else
                                         (unit.get("evaluate") or {}).get("missing") or
                                         (unit.get("generate") or {}).get("status") or "not evaluated")
                continue
            for headline in bench.headlines:
                score = headline.score(summary)
                if score.value is not None:
                    row.scores[headline.key] = score
        rows.append(row)
    return rows


def sample_values(run_dir: Path, task: str, metric: str) -> dict[str, float]:
    out = {}
    for rec in iter_records(run_dir / "samples.jsonl"):
        value = (rec.get("metrics") or {}).get(metric)
        if rec.get("task_id") == task and isinstance(value, (int, float)) and math.isfinite(value):
            out[rec["sample_id"]] = float(value)
    return out


def best_vs_last(root: Path, rows: list[ModelRow], bench: SweepBenchmark) -> BestVsLast | None:
    headline = bench.headlines[0]
    scored = [r for r in rows if headline.key in r.scores]
    if not scored:
        return None
    best = max(scored, key=lambda r: (r.scores[headline.key].value, -scored.index(r)))
    last = scored[-1]
    result = BestVsLast(bench.name, headline, best.name, last.name, best.scores[headline.key].value or 0.0,
                        last.scores[headline.key].value or 0.0)
    if best is last:
        return result
    a = sample_values(root / "runs" / f"{best.name}__{bench.name}", headline.task, headline.paired_metric)
    b = sample_values(root / "runs" / f"{last.name}__{bench.name}", headline.task, headline.paired_metric)
    shared = sorted(set(a) & set(b))
    if not shared:
        return result
    va, vb = np.array([a[s] for s in shared]), np.array([b[s] for s in shared])
    binary = set(np.unique(np.concatenate([va, vb]))) <= {0.0, 1.0}
    result.n_paired = len(shared)
    result.diff = 100 * float((va - vb).mean())
    if binary:
        result.test = "McNemar exact"
        result.p_value = mcnemar_exact(int(np.sum((va == 1) & (vb == 0))), int(np.sum((va == 0) & (vb == 1))))
    else:
        result.test = "paired bootstrap"
        result.p_value = paired_bootstrap(va - vb)
    return result

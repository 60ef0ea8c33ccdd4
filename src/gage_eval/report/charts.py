"""The report's charts as inline SVG (see report/svg.py for why not plotly.js)."""
from __future__ import annotations

from typing import Any

import numpy as np
from markupsafe import Markup

from gage_eval.report import svg
from gage_eval.report.samples import _NON_SCORE


def score_metric_names(tasks: list[dict[str, Any]]) -> list[str]:
    names: dict[str, None] = {}
    for task in tasks:
        for name, agg in (task.get("metrics") or {}).items():
            if not isinstance(agg, dict) or agg.get("aggregation") == "sum" or agg.get("scale", 1) != 1:
                continue  # a sum is a count; a metric on another scale (LiveBench's 0-100) is no 0-1 score
            value = agg.get("value")
            if isinstance(value, (int, float)) and 0.0 <= value <= 1.0 and not _NON_SCORE.search(name):
                names[name] = None
    return list(names)


def task_scores(tasks: list[dict[str, Any]]) -> Markup | None:
    """One group of bars per task, one bar per score metric, whiskers = the metric's 95% CI (Wilson for 0/1)."""
    names = score_metric_names(tasks)
    if not names:
        return None
    categories = [str(t.get("task_id")) for t in tasks]
    series = []
    for name in names:
        values, intervals = [], []
        for task in tasks:
            agg = (task.get("metrics") or {}).get(name) or {}
            values.append(agg.get("value"))
            ci = agg.get("ci95")
            intervals.append((max(0.0, ci[0]), min(1.0, ci[1])) if ci and None not in ci else None)
        series.append(svg.BarSeries(name, values, intervals))
    return svg.bar_chart("Scores per task (whiskers: 95% CI)", categories, series, y_label="score", y_range=(0, 1))


def latency_histogram(latencies: list[float], bins: int = 40) -> Markup | None:
    """Binned in Python so the page carries 40 bars, not one value per sample."""
    arr = np.asarray([x for x in latencies if x is not None], dtype=float)
    if arr.size == 0:
        return None
    # Clip at p99.5 so one stuck request does not squash the distribution into a single bar.
    hi = float(np.percentile(arr, 99.5)) if arr.size > 200 else float(arr.max())
    lo = float(arr.min())
    counts, edges = np.histogram(np.clip(arr, lo, hi), bins=bins, range=(lo, hi if hi > lo else lo + 1.0))
    p50, p95 = (float(v) for v in np.percentile(arr, [50, 95]))
    return svg.histogram(f"Model latency (n={arr.size:,}, p50 {p50:.1f} ms, p95 {p95:.1f} ms)",
                         edges.round(3).tolist(), counts.tolist(), x_label="ms")


def failures_by_reason(by_reason: dict[str, int]) -> Markup | None:
    if not by_reason:
        return None
    items = sorted(by_reason.items(), key=lambda kv: -kv[1])
    return svg.hbar_chart("Failures by reason (step:error type)", [k for k, _ in items], [v for _, v in items])


def step_chart(series: dict[str, list[tuple[int, float, str]]], title: str) -> Markup | None:
    """Score vs checkpoint step: one line per (series, task/metric) key."""
    if not series:
        return None
    lines = [svg.LineSeries(name, [p[0] for p in sorted(points)], [p[1] for p in sorted(points)],
                            [p[2] for p in sorted(points)]) for name, points in sorted(series.items())]
    return svg.line_chart(title, lines, x_label="checkpoint step", y_label="score")

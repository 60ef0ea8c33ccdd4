"""Plotly figure specs as plain dicts (rendered by the bundled plotly.js, no Python plotly objects)."""
from __future__ import annotations

from typing import Any

import numpy as np

from gage_eval.report.samples import _NON_SCORE

_LAYOUT = {"height": 300, "margin": {"l": 50, "r": 20, "t": 40, "b": 60}, "paper_bgcolor": "rgba(0,0,0,0)",
           "plot_bgcolor": "rgba(0,0,0,0)", "font": {"size": 12}}


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    return {**_LAYOUT, "title": {"text": title, "font": {"size": 14}}, **extra}


def score_metric_names(tasks: list[dict[str, Any]]) -> list[str]:
    names: dict[str, None] = {}
    for task in tasks:
        for name, agg in (task.get("metrics") or {}).items():
            value = agg.get("value") if isinstance(agg, dict) else None
            if isinstance(value, (int, float)) and 0.0 <= value <= 1.0 and not _NON_SCORE.search(name):
                names[name] = None
    return list(names)


def task_scores(tasks: list[dict[str, Any]]) -> dict[str, Any] | None:
    names = score_metric_names(tasks)
    if not names:
        return None
    traces = []
    for name in names:
        xs, ys, errs = [], [], []
        for task in tasks:
            agg = (task.get("metrics") or {}).get(name) or {}
            if agg.get("value") is None:
                continue
            xs.append(task.get("task_id"))
            ys.append(agg["value"])
            errs.append(1.96 * agg["stderr"] if agg.get("stderr") is not None else 0.0)
        traces.append({"type": "bar", "name": name, "x": xs, "y": ys,
                       "error_y": {"type": "data", "array": errs, "visible": True}})
    return {"data": traces, "layout": _layout("Scores per task (bars: 95% CI)", barmode="group",
                                              yaxis={"range": [0, 1.05]})}


def latency_histogram(latencies: list[float], bins: int = 40) -> dict[str, Any] | None:
    """Binned in Python so the page carries 40 bars, not one value per sample."""
    arr = np.asarray([x for x in latencies if x is not None], dtype=float)
    if arr.size == 0:
        return None
    # Clip at p99.5 so one stuck request does not squash the distribution into a single bar.
    hi = float(np.percentile(arr, 99.5)) if arr.size > 200 else float(arr.max())
    lo = float(arr.min())
    counts, edges = np.histogram(np.clip(arr, lo, hi), bins=bins, range=(lo, hi if hi > lo else lo + 1.0))
    centers = ((edges[:-1] + edges[1:]) / 2).round(3).tolist()
    p50, p95 = (float(v) for v in np.percentile(arr, [50, 95]))
    return {"data": [{"type": "bar", "x": centers, "y": counts.tolist(), "name": "samples",
                      "width": float(edges[1] - edges[0])}],
            "layout": _layout(f"Model latency, ms (n={arr.size}, p50 {p50:.1f}, p95 {p95:.1f})",
                              xaxis={"title": {"text": "ms"}}, yaxis={"title": {"text": "samples"}}, bargap=0.05)}


def failures_by_reason(by_reason: dict[str, int]) -> dict[str, Any] | None:
    if not by_reason:
        return None
    items = sorted(by_reason.items(), key=lambda kv: kv[1])
    return {"data": [{"type": "bar", "orientation": "h", "x": [v for _, v in items], "y": [k for k, _ in items],
                      "marker": {"color": "#c0392b"}}],
            "layout": _layout("Failures by reason (step:error type)", margin={"l": 200, "r": 20, "t": 40, "b": 40})}


def step_chart(series: dict[str, list[tuple[int, float, str]]], title: str) -> dict[str, Any] | None:
    """Score vs checkpoint step: one line per (series, task/metric) key."""
    if not series:
        return None
    traces = []
    for name, points in sorted(series.items()):
        points = sorted(points)
        traces.append({"type": "scatter", "mode": "lines+markers", "name": name, "x": [p[0] for p in points],
                       "y": [p[1] for p in points], "text": [p[2] for p in points],
                       "hovertemplate": "%{text}<br>step %{x}: %{y:.4f}<extra></extra>"})
    return {"data": traces, "layout": _layout(title, height=360, xaxis={"title": {"text": "step"}},
                                              yaxis={"title": {"text": "score"}})}

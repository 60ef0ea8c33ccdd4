"""Outputs of `gage perf`: a rich table per level, perf.json, perf_requests.jsonl and perf_report.html."""
from __future__ import annotations

import html
from dataclasses import asdict
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from gage_eval.perf.runner import LevelResult

_ROWS = [("Successful requests", "completed", "{:.0f}"), ("Failed requests", "failed", "{:.0f}"),
         ("Benchmark duration (s)", "duration", "{:.2f}"), ("Total input tokens", "total_input_tokens", "{:.0f}"),
         ("Total generated tokens", "total_output_tokens", "{:.0f}"),
         ("Request throughput (req/s)", "request_throughput", "{:.2f}"),
         ("Output token throughput (tok/s)", "output_throughput", "{:.2f}"),
         ("Total token throughput (tok/s)", "total_token_throughput", "{:.2f}")]


def print_level(result: LevelResult, console: Console, percentiles: tuple[int, ...]) -> None:
    s = result.stats
    table = Table(title=f"parallel {result.parallel}" + ("" if s["request_rate"] == float("inf")
                                                          else f", rate {s['request_rate']:g} req/s"))
    table.add_column("metric")
    table.add_column("value", justify="right")
    for label, key, fmt in _ROWS:
        table.add_row(label, fmt.format(s[key]))
    for name, label in (("ttft", "TTFT"), ("tpot", "TPOT"), ("itl", "ITL"), ("e2el", "E2E latency")):
        for stat in ["mean", "median", *(f"p{p}" for p in percentiles if p != 50)]:
            value = s.get(f"{stat}_{name}_ms")
            table.add_row(f"{stat.capitalize() if not stat.startswith('p') else stat.upper()} {label} (ms)",
                          "-" if value is None else f"{value:.2f}")
    table.add_row("Output tokens counted by", ", ".join(f"{k}: {v}" for k, v in s["token_source"].items()) or "-")
    console.print(table)
    for error, count in s["errors"].items():
        console.print(f"[red]{count} × {error}[/red]")


def write_outputs(out_dir: Path, meta: dict[str, Any], results: list[LevelResult]) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    perf_json = out_dir / "perf.json"
    perf_json.write_bytes(orjson.dumps({"meta": meta, "levels": [r.stats for r in results]},
                                       option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
    requests_path = out_dir / "perf_requests.jsonl"
    with requests_path.open("wb") as fh:
        for r in results:
            for rec in r.records:
                row = asdict(rec)
                row.pop("text")
                fh.write(orjson.dumps(row) + b"\n")
    report = out_dir / "perf_report.html"
    report.write_text(render_html(meta, results), encoding="utf-8")
    return {"perf.json": perf_json, "perf_requests.jsonl": requests_path, "perf_report.html": report}


def render_html(meta: dict[str, Any], results: list[LevelResult]) -> str:
    """Self-contained: plotly's JS is inlined, so the report opens from disk with no network."""
    import plotly.graph_objects as go
    from plotly.io import to_html
    from plotly.offline import get_plotlyjs

    levels = [r.parallel for r in results]
    latency = go.Figure()
    for name in ("ttft", "tpot", "itl", "e2el"):
        for stat in ("median", "p99"):
            latency.add_trace(go.Scatter(x=levels, y=[r.stats.get(f"{stat}_{name}_ms") for r in results],
                                         mode="lines+markers", name=f"{stat} {name.upper()}"))
    latency.update_layout(title="Latency percentiles vs parallel level", xaxis_title="parallel", yaxis_title="ms",
                          xaxis_type="log")
    throughput = go.Figure()
    for key, label in (("request_throughput", "requests/s"), ("output_throughput", "output tokens/s"),
                       ("total_token_throughput", "total tokens/s")):
        throughput.add_trace(go.Scatter(x=levels, y=[r.stats[key] for r in results], mode="lines+markers", name=label))
    throughput.update_layout(title="Throughput vs parallel level", xaxis_title="parallel", xaxis_type="log")
    ttft = go.Figure()
    for r in results:
        ttft.add_trace(go.Histogram(x=[rec.ttft_s * 1000 for rec in r.records if rec.success and rec.ttft_s],
                                    name=f"parallel {r.parallel}", opacity=0.6))
    ttft.update_layout(title="TTFT histogram", xaxis_title="ms", barmode="overlay")
    figures = "".join(f'<div class="fig" id="fig-{i}">{to_html(f, include_plotlyjs=False, full_html=False)}</div>'
                      for i, f in enumerate((latency, throughput, ttft)))
    rows = "".join("<tr><td>{}</td>{}</tr>".format(
        r.parallel, "".join(f"<td>{_fmt(r.stats.get(k))}</td>" for k in _TABLE_KEYS)) for r in results)
    head = "".join(f"<th>{html.escape(k)}</th>" for k in _TABLE_KEYS)
    meta_rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                        for k, v in meta.items())
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>gage perf</title>"
            f"<script>{get_plotlyjs()}</script><style>body{{font-family:sans-serif;margin:2em}}"
            f"table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}"
            f"</style></head><body><h1>gage perf</h1><table id='meta'>{meta_rows}</table>"
            f"<h2>Per level</h2><table id='levels'><tr><th>parallel</th>{head}</tr>{rows}</table>"
            f"{figures}</body></html>")


_TABLE_KEYS = ("completed", "failed", "request_throughput", "output_throughput", "mean_ttft_ms", "p99_ttft_ms",
               "mean_tpot_ms", "mean_itl_ms", "mean_e2el_ms", "p99_e2el_ms")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if isinstance(value, float) else str(value)

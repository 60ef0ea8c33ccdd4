"""Outputs of `gage perf`: a rich table per level as it finishes, one summary table across levels at the
end, perf.json, perf_requests.jsonl and a self-contained perf_report.html styled like report.html."""
from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from markupsafe import Markup
from rich.console import Console
from rich.table import Table

from gage_eval.perf.runner import LevelResult
from gage_eval.report import svg

_ROWS = [("Successful requests", "completed", "{:.0f}"), ("Failed requests", "failed", "{:.0f}"),
         ("Benchmark duration (s)", "duration", "{:.2f}"), ("Total input tokens", "total_input_tokens", "{:.0f}"),
         ("Total generated tokens", "total_output_tokens", "{:.0f}"),
         ("Request throughput (req/s)", "request_throughput", "{:.2f}"),
         ("Output token throughput (tok/s)", "output_throughput", "{:.2f}"),
         ("Total token throughput (tok/s)", "total_token_throughput", "{:.2f}")]
# The summary across levels: (header, key); units in the headers, as in the per-level tables.
SUMMARY_COLUMNS = [("parallel", "max_concurrency"), ("ok", "completed"), ("failed", "failed"),
                   ("req/s", "request_throughput"), ("out tok/s", "output_throughput"),
                   ("total tok/s", "total_token_throughput"), ("mean TTFT ms", "mean_ttft_ms"),
                   ("p99 TTFT ms", "p99_ttft_ms"), ("mean TPOT ms", "mean_tpot_ms"), ("mean ITL ms", "mean_itl_ms"),
                   ("mean E2EL ms", "mean_e2el_ms"), ("p99 E2EL ms", "p99_e2el_ms")]


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


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "inf" if value == float("inf") else f"{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def summary_table(results: list[LevelResult]) -> Table:
    """One row per parallel level: the figures people compare across levels, side by side."""
    table = Table(title="gage perf summary (all levels)")
    for header, _ in SUMMARY_COLUMNS:
        table.add_column(header, justify="right", no_wrap=True)
    for r in results:
        table.add_row(*(fmt(r.stats.get(key)) for _, key in SUMMARY_COLUMNS))
    return table


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_outputs(out_dir: Path, meta: dict[str, Any], results: list[LevelResult]) -> dict[str, Path]:
    """Written after every level (atomically), so finished levels survive a later failure or Ctrl-C."""
    out_dir.mkdir(parents=True, exist_ok=True)
    perf_json = out_dir / "perf.json"
    _write_atomic(perf_json, orjson.dumps({"meta": meta, "levels": [r.stats for r in results]},
                                          option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
    requests_path = out_dir / "perf_requests.jsonl"
    lines = []
    for r in results:
        for rec in r.records:
            row = asdict(rec)
            row.pop("text")
            lines.append(orjson.dumps(row) + b"\n")
    _write_atomic(requests_path, b"".join(lines))
    report = out_dir / "perf_report.html"
    _write_atomic(report, render_html(meta, results).encode("utf-8"))
    return {"perf.json": perf_json, "perf_requests.jsonl": requests_path, "perf_report.html": report}


def charts(results: list[LevelResult]) -> dict[str, Markup]:
    """Request throughput and token throughput on their own axes (req/s vs tok/s differ by 100×)."""
    levels = [float(r.parallel) for r in results]
    log_x = len(levels) > 2 and max(levels) / max(min(levels), 1) >= 8

    def series(keys: list[tuple[str, str]]) -> list[svg.LineSeries]:
        return [svg.LineSeries(label, levels, [r.stats.get(key) for r in results]) for key, label in keys]

    out = {
        "request-throughput": svg.line_chart("Request throughput vs parallel level",
                                             series([("request_throughput", "requests/s")]), "parallel", "req/s",
                                             log_x=log_x),
        "token-throughput": svg.line_chart("Token throughput vs parallel level", series(
            [("output_throughput", "output tok/s"), ("total_token_throughput", "total tok/s")]), "parallel", "tok/s",
            log_x=log_x),
        "latency": svg.line_chart("Latency vs parallel level (TTFT, end to end)", series(
            [(f"{s}_{n}_ms", f"{s} {n.upper()}") for n in ("ttft", "e2el") for s in ("median", "p99")]),
            "parallel", "ms", log_x=log_x),
        "token-latency": svg.line_chart("Per-token latency vs parallel level (TPOT, ITL)", series(
            [(f"{s}_{n}_ms", f"{s} {n.upper()}") for n in ("tpot", "itl") for s in ("median", "p99")]),
            "parallel", "ms", log_x=log_x),
    }
    ttfts = [np.asarray([rec.ttft_s * 1000 for rec in r.records if rec.success and rec.ttft_s is not None])
             for r in results]
    if any(a.size for a in ttfts):
        both = np.concatenate([a for a in ttfts if a.size])
        edges = np.histogram_bin_edges(both, bins=20)
        centers = ((edges[:-1] + edges[1:]) / 2).tolist()
        out["ttft"] = svg.line_chart("TTFT distribution per level (requests per 20 bins)", [
            svg.LineSeries(f"parallel {r.parallel}", centers, np.histogram(a, bins=edges)[0].tolist())
            for r, a in zip(results, ttfts) if a.size], "TTFT ms", "requests", fmt="{:.0f}")
    return out


def render_html(meta: dict[str, Any], results: list[LevelResult]) -> str:
    """Self-contained (CSS and SVG inline): opens from disk with no network, a few tens of kB."""
    from gage_eval.report.standalone import asset, environment

    errors = [(r.parallel, err, n) for r in results for err, n in r.stats["errors"].items()]
    return environment().get_template("perf_report.html.j2").render(
        meta=meta, results=results, columns=SUMMARY_COLUMNS, fmt=fmt, charts=charts(results) if results else {},
        errors=errors, css=asset("report.css"))

"""HTML pages of `gage view` (small, server-rendered; the run page reuses the report template)."""
from __future__ import annotations

import html
from typing import Any

from gage_eval.report.compare import MetricComparison
from gage_eval.report.results_table import metric_label
from gage_eval.view.runs import RunEntry

_STYLE = """<style>body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:12px 24px}header a{color:#fff;margin-right:16px}
main{padding:16px 24px}table{border-collapse:collapse;font-size:13px;background:#fff}
td,th{border-bottom:1px solid #eceef2;padding:5px 10px;text-align:left}th{background:#fafbfc}
td.num{text-align:right;font-variant-numeric:tabular-nums}.sig{font-weight:600;color:#9b1c1c}.nsig{color:#666}
.note{background:#fff4e5;border:1px solid #f5c37a;padding:8px 12px;border-radius:6px}
svg.gage-chart{width:100%;max-width:800px;height:auto;background:#fff}</style>"""


def e(value: Any) -> str:
    return html.escape("-" if value is None else str(value))


def num(value: Any, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else e(value)


def page(title: str, body: str, head: str = "") -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title>{_STYLE}{head}</head><body>"
            f"<header><a href='/'>runs</a><a href='/leaderboard'>leaderboard</a><b>{e(title)}</b></header>"
            f"<main>{body}</main></body></html>")


def runs_page(runs: list[RunEntry]) -> str:
    if not runs:
        return page("gage view", "<p class='note'>No runs here yet. Run <code>gage run CONFIG --output-dir DIR</code> "
                                 "and open <code>gage view DIR</code>.</p>")
    rows = []
    for r in runs:
        metrics = "<br>".join(f"{e(metric_label(k))} <b>{num(v)}</b>" for k, v in r.task_metrics().items())
        count = (r.summary or {}).get("sample_count", "?")
        rows.append(f"<tr><td><input type='checkbox' name='runs' value='{e(r.run_id)}'></td>"
                    f"<td><a href='/live/{e(r.run_id)}'>{e(r.run_id)}</a></td><td>{e(r.status)}</td>"
                    f"<td class='num'>{e(count)}</td><td class='metrics'>{metrics}</td>"
                    f"<td><a href='/runs/{e(r.run_id)}/report.html'>report.html</a></td></tr>")
    return page("gage view", "<form action='/compare' method='get'><table id='runs'><tr><th></th><th>run</th>"
                             "<th>status</th><th>samples</th><th>task / metric</th><th></th></tr>" + "".join(rows) +
                "</table><p><button id='compare' type='submit'>compare selected runs</button></p></form>")


def compare_page(run_ids: list[str], tables: list[tuple[str, list[MetricComparison]]]) -> str:
    parts = [f"<p>Baseline <b>{e(run_ids[0])}</b>. Differences are (other − baseline) over samples scored in both; "
             "p from McNemar's exact test for 0/1 metrics, a paired bootstrap otherwise; significant at p &lt; 0.05."
             "</p>"]
    for other, comps in tables:
        if not comps:
            parts.append(f"<p class='note'>{e(other)} shares no scored samples and metrics with {e(run_ids[0])}.</p>")
            continue
        rows = "".join(
            f"<tr data-task='{e(c.task_id)}' data-metric='{e(c.metric)}'><td>{e(c.task_id)}</td>"
            f"<td>{e(metric_label(c.metric))}</td>"
            f"<td class='num'>{num(c.value_a)}</td><td class='num'>{num(c.value_b)}</td><td class='num diff'>"
            f"{num(c.diff)}</td><td class='num'>{c.n_paired}</td><td class='num p'>{num(c.p_value)}</td>"
            f"<td class='significance {'sig' if c.significant else 'nsig'}'>"
            f"{'significant' if c.significant else 'not significant'}</td><td>{e(c.test)}</td></tr>" for c in comps)
        parts.append(f"<h2>{e(run_ids[0])} vs {e(other)}</h2><table class='comparison'><tr><th>task</th><th>metric</th>"
                     f"<th>{e(run_ids[0])}</th><th>{e(other)}</th><th>diff</th><th>paired n</th><th>p</th>"
                     f"<th>significance</th><th>test</th></tr>{rows}</table>")
        for c in comps:
            if c.a_better or c.b_better:
                parts.append(f"<details><summary>{e(c.task_id)} / {e(c.metric)}: {len(c.b_better)} samples right only "
                             f"in {e(other)}, {len(c.a_better)} right only in {e(run_ids[0])}</summary>"
                             f"<p><b>right only in {e(other)}:</b> {e(', '.join(c.b_better[:200]))}</p>"
                             f"<p><b>right only in {e(run_ids[0])}:</b> {e(', '.join(c.a_better[:200]))}</p></details>")
    return page("compare " + " vs ".join(run_ids), "".join(parts))


def leaderboard_page(runs: list[RunEntry], metric: str | None, metrics: list[str], chart: str) -> str:
    options = "".join(f"<option value='{e(m)}' {'selected' if m == metric else ''}>{e(metric_label(m))}</option>"
                      for m in metrics)
    ranked = sorted((r for r in runs if metric and r.metric(metric) is not None), key=lambda r: -(r.metric(metric) or 0))
    rows = "".join(f"<tr><td class='num'>{i}</td><td><a href='/live/{e(r.run_id)}'>{e(r.run_id)}</a></td>"
                   f"<td class='num'>{num(r.metric(metric))}</td><td class='num'>{e(r.step)}</td></tr>"
                   for i, r in enumerate(ranked, start=1))
    body = (f"<form method='get'>task / metric <select name='metric' onchange='this.form.submit()'>{options}"
            "</select></form>"
            f"<table id='leaderboard'><tr><th>#</th><th>run</th><th>{e(metric_label(metric or '-'))}</th>"
            "<th>checkpoint step</th></tr>"
            f"{rows}</table>{chart}")
    return page("leaderboard", body)


def error_page(message: str) -> str:
    return page("gage view", f"<p class='note'>{e(message)}</p><p><a href='/'>back to the runs</a></p>")

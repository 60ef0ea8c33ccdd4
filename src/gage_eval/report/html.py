"""Render a run's report.html: self-contained (CSS, JS, plotly and data inlined), opens from disk offline."""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import orjson
from markupsafe import Markup

from gage_eval.report.run_data import RunData, compact, iter_records, load_run

MAX_EMBEDDED = 100_000  # beyond this the file would be too big to open fast; `gage view` pages through all


@lru_cache(maxsize=None)
def _asset(name: str) -> str:
    return resources.files("gage_eval.report").joinpath("assets", name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.ChainableUndefined)
    return env.from_string(_asset("report.html.j2"))


@lru_cache(maxsize=1)
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _json_for_script(data: Any) -> Markup:
    # `</` must not appear inside a <script> element; `<\/` is the same string to JSON.parse.
    return Markup(orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode().replace("</", "<\\/"))


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1000 else f"{value:.1f}"
    return str(value)


def _meta_rows(data: RunData) -> list[tuple[str, Any]]:
    s = data.summary or {}
    run = s.get("run", {})
    health = s.get("runtime_health", {})
    rows = [("run id", data.run_id), ("status", data.status), ("config", run.get("config_name")),
            ("template", run.get("template")), ("results digest", run.get("results_digest")),
            ("started", run.get("started_at")), ("finished", run.get("finished_at")),
            ("wall time (s)", _fmt((s.get("timings") or {}).get("wall_s"))),
            ("samples", s.get("sample_count")), ("failures", (s.get("failures") or {}).get("total"))]
    for backend, stats in (health.get("backends") or {}).items():
        rows.append((f"backend {backend}", f"{stats.get('requests')} requests, {stats.get('retries')} retries, "
                                           f"{stats.get('completion_tokens')} output tokens"))
    versions = run.get("versions") or {}
    if versions:
        rows.append(("versions", ", ".join(f"{k} {v}" for k, v in versions.items())))
    if run.get("error"):
        rows.append(("error", run["error"].get("message")))
    return [(k, v) for k, v in rows if v is not None]


def render_report(run_dir: Path, *, live_url: str | None = None, plotly_url: str | None = None) -> str:
    """Embedded mode (file on disk) unless `live_url` is given: then samples are fetched and polled."""
    data = load_run(run_dir)
    problems = list(data.problems)
    samples: list[dict[str, Any]] | None = None
    truncated = ""
    if live_url is None:
        samples = []
        total = 0
        for _, record in iter_records(run_dir, problems=problems):
            total += 1
            if len(samples) < MAX_EMBEDDED:
                samples.append(compact(record))
        if total > MAX_EMBEDDED:
            truncated = (f"This file embeds the first {MAX_EMBEDDED:,} of {total:,} samples; "
                         f"`gage view {run_dir.parent}` browses all of them.")
    source = {"mode": "live", "url": live_url, "interval_ms": 2000} if live_url else {"mode": "embedded"}
    summary = data.summary or {}
    return _template().render(
        run_id=data.run_id, status=data.status, run=summary.get("run", {}), problems=problems,
        meta=_meta_rows(data), tasks=summary.get("tasks", []), fmt=_fmt, truncated=truncated,
        live=live_url is not None, css=Markup(_asset("report.css")), js=Markup(_asset("report.js")),
        plotly_js=None if plotly_url else Markup(_plotly_js()), plotly_url=plotly_url,
        source_json=_json_for_script(source), summary_json=_json_for_script(summary),
        samples_json=None if samples is None else _json_for_script(samples))


def write_report(run_dir: Path) -> Path:
    target = run_dir / "report.html"
    tmp = target.with_suffix(".html.tmp")
    tmp.write_text(render_report(run_dir), encoding="utf-8")
    tmp.replace(target)
    return target

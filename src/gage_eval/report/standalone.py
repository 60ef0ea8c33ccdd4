"""report.html: a self-contained page (inline CSS, JS, SVG charts and data) that opens from disk offline.

Samples are not inlined as DOM: rows (a few fields per sample) and full records travel as gzip+base64
blobs that the page decodes on demand, one chunk of records when a sample is opened, so a
100k-sample report opens as fast as a small one and stays a fraction of samples.jsonl's size.
"""
from __future__ import annotations

import base64
import functools
import gzip
import os
from pathlib import Path
from typing import Any

import jinja2
import orjson
from markupsafe import Markup

from gage_eval.report import charts
from gage_eval.report.artifacts import RunInfo, effective_summary, load_run
from gage_eval.report.results_table import metric_label
from gage_eval.report.samples import ROW_FIELDS, SampleScanner, trim

CHUNK_SIZE = 500
DETAIL_BUDGET_BYTES = 64 << 20  # encoded record bytes; samples past it are listed without details
_TEMPLATES = Path(__file__).parent / "templates"


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    try:  # compiling the report template costs ~0.1 s of every run; jinja2 keys its cache by the source's hash
        cache: jinja2.BytecodeCache | None = jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):  # no private temp directory: compile each time
        cache = None
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(_TEMPLATES)), autoescape=True,
                             undefined=jinja2.ChainableUndefined, trim_blocks=True, lstrip_blocks=True,
                             bytecode_cache=cache)
    env.filters["json_script"] = json_script
    env.filters["num"] = format_number
    env.filters["metric_label"] = metric_label
    return env


def asset(name: str) -> str:
    return (_TEMPLATES / name).read_text(encoding="utf-8")


def json_script(obj: Any) -> Markup:
    """JSON safe inside <script>: `<` only occurs within JSON strings, where \\u003c is equivalent."""
    text = orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY, default=str).decode()
    return Markup(text.replace("<", "\\u003c"))


def format_number(value: Any, digits: int = 4) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}f}" if abs(value) < 1e6 else f"{value:.4g}"


MAX_STATIC_ROWS = 100_000


def _blob(obj: Any) -> str:
    # mtime=0 keeps a regenerated report byte-identical for the same artifacts.
    return base64.b64encode(gzip.compress(orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY), 5, mtime=0)).decode()


class _Chunker:
    def __init__(self) -> None:
        self.chunks: list[str] = []
        self.current: list[dict[str, Any]] = []
        self.size = 0
        self.full = False

    def add(self, index: int, record: dict[str, Any]) -> None:
        if self.full:
            return
        if len(record.get("predict_result") or []) <= 1:
            record.pop("predict_result", None)  # model_output already carries the single prediction
        self.current.append(trim(record))
        if len(self.current) == CHUNK_SIZE:
            self.flush()

    def flush(self) -> None:
        if self.current and not self.full:
            self.chunks.append(_blob(self.current))
            self.size += len(self.chunks[-1])
            self.full = self.size > DETAIL_BUDGET_BYTES
        self.current = []


def metric_rows(summary: dict[str, Any], primary: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for task in summary.get("tasks") or []:
        if not isinstance(task, dict):
            continue
        for name, agg in (task.get("metrics") or {}).items():
            if isinstance(agg, dict):
                rows.append({"task": task.get("task_id"), "metric": name, **agg,
                             "primary": primary.get(str(task.get("task_id"))) == name})
    return rows


def report_context(info: RunInfo, scan: SampleScanner) -> dict[str, Any]:
    """Everything the report template shows, in static and in viewer mode."""
    summary = effective_summary(info, scan)
    tasks = [t for t in summary.get("tasks") or [] if isinstance(t, dict)]
    by_reason = (summary.get("failures") or {}).get("by_reason") or {}
    figures = {"task-scores": charts.task_scores(tasks),
               "latency": charts.latency_histogram([r[6] for r in scan.rows if r[6] is not None]),
               "failures": charts.failures_by_reason(by_reason)}
    task_order = [t.get("task_id") for t in tasks] + [t for t in scan.task_order if t not in {x.get("task_id") for x in tasks}]
    return {"info": info, "run": info.run_section(), "summary": summary, "tasks": tasks,
            "metric_rows": metric_rows(summary, scan.primary),
            "overall": summary.get("metrics") or {}, "models": info.models(),
            "health": (summary.get("runtime_health") or {}).get("backends") or {},
            # A run in progress has a line being written and no summary.json yet: normal, so said calmly.
            "warnings": [*info.warnings, *([] if info.running else scan.warnings())], "missing": info.missing,
            "notes": info.notes,
            "figures": {k: v for k, v in figures.items() if v is not None}, "row_count": len(scan.rows),
            "triage": scan.triage.as_dict(),
            "page": {"tasks": task_order, "primary": scan.primary, "fields": list(ROW_FIELDS)}}


def render_report(run_dir: Path) -> str:
    """The static report of a run directory as HTML text."""
    info = load_run(run_dir)
    # A static file cannot page from disk, and a million rows would cost the run ~1 GB to build the page.
    scan = SampleScanner(info.samples_path, max_rows=MAX_STATIC_ROWS)
    chunker = _Chunker()
    scan.poll(chunker.add)
    chunker.flush()
    ctx = report_context(info, scan)
    embedded = len(chunker.chunks) * CHUNK_SIZE
    if embedded < len(scan.rows):
        ctx["warnings"].append(f"details of samples after #{embedded} are not embedded (report size cap); "
                               "`gage view` shows every sample")
    ctx["page"].update(mode="static", chunkSize=CHUNK_SIZE, chunks=len(chunker.chunks), live=False)
    return environment().get_template("report.html.j2").render(
        **ctx, mode="static", css=asset("report.css"), js=asset("report.js"),
        rows_blob=_blob(scan.rows), chunks=chunker.chunks)


def write_report(run_dir: Path) -> Path:
    """Write run_dir/report.html from the run's artifacts (atomically) and return its path."""
    run_dir = Path(run_dir)
    out = run_dir / "report.html"
    tmp = out.with_suffix(".html.tmp")
    tmp.write_text(render_report(run_dir), encoding="utf-8")
    os.replace(tmp, out)
    return out

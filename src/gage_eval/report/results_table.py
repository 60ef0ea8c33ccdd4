"""The results table people read at the end of a run, laid out like lm-evaluation-harness's:

    | Task  | Version | n-shot | Filter   | Metric      |  Value |   | Stderr | 95% CI           |  n |
    |-------|---------|-------:|----------|-------------|-------:|---|-------:|------------------|---:|
    | gsm8k | V1      |      5 | strict   | exact_match | 0.8000 | ± | 0.0918 | [0.5840, 0.9193] | 20 |

It is Markdown (as lm-eval prints it), printed to the terminal and written as `results.md` beside
summary.json. Everything comes from summary.json and config.json, so `gage report` can rebuild it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from gage_eval.metrics.aggregate import WILSON

RESULTS_FILE = "results.md"
_HEAD = ("Task", "Version", "n-shot", "Filter", "Metric", "Value", "", "Stderr", "95% CI", "n")
_RIGHT = {"n-shot", "Value", "Stderr", "n"}


def metric_unit(name: str) -> str | None:
    """The unit of a metric's values, for labels: latency metrics are in ms (model_output.latency_ms)."""
    base = name.rsplit("/", 1)[-1].rsplit(".", 1)[-1].strip().lower()  # "task / metric" and "metric.sub" too
    if base.startswith("latency") or base.endswith("_ms"):
        return "ms"
    if base.endswith("_s") or base.endswith("_seconds"):
        return "s"
    return None


def metric_label(name: str) -> str:
    unit = metric_unit(name)
    return f"{name} ({unit})" if unit else name


@dataclass(frozen=True)
class ResultRow:
    task: str
    version: str
    n_shot: str
    filter: str
    metric: str
    value: float | None
    stderr: float | None
    ci95: list[float] | None
    ci_method: str | None
    count: int

    def cells(self) -> tuple[str, ...]:
        ci = f"[{_num(self.ci95[0])}, {_num(self.ci95[1])}]" if self.ci95 else "-"
        return (self.task, self.version, self.n_shot, self.filter, self.metric, _num(self.value),
                "±" if self.stderr is not None else "", _num(self.stderr), ci, f"{self.count:,}")


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if abs(value) < 1e5 else f"{value:.4g}"


def _task_versions(config: dict[str, Any], task_ids: list[str]) -> dict[str, str]:
    """Builtin template versions ("gsm8k@V1") by task; a config not compiled from a template has none."""
    meta = config.get("metadata") if isinstance(config.get("metadata"), dict) else {}
    versions: dict[str, str] = {}
    for ref in meta.get("templates") or []:
        name, _, version = str(ref).partition("@")
        versions[name] = version
    single = str(meta.get("template") or "").partition("@")[2]
    return {t: versions.get(t) or (single if single and len(task_ids) == 1 else "-") for t in task_ids}


def _n_shot(config: dict[str, Any], dataset_id: str | None) -> str:
    for ds in config.get("datasets") or []:
        if isinstance(ds, dict) and ds.get("dataset_id") == dataset_id:
            kwargs = (ds.get("params") or {}).get("preprocess_kwargs") or {}
            shots = kwargs.get("num_fewshot", kwargs.get("few_shot_num"))
            return str(shots) if shots is not None else "-"
    return "-"


def _filters(config: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Value names of filtered metrics ("exact_match_strict") -> ("exact_match", "strict"), as lm-eval
    reports one metric under several filters; every other metric is unfiltered ("none", lm-eval's name)."""
    out: dict[str, tuple[str, str]] = {}
    for metric in config.get("metrics") or []:
        params = metric.get("params") if isinstance(metric, dict) else None
        if not isinstance(params, dict) or not isinstance(params.get("filters"), list):
            continue
        prefix = str(params.get("value_prefix", "exact_match"))
        for flt in params["filters"]:
            if isinstance(flt, dict) and flt.get("name"):
                out[f"{prefix}_{flt['name']}"] = (prefix, str(flt["name"]))
    return out


def result_rows(summary: dict[str, Any], config: dict[str, Any] | None) -> list[ResultRow]:
    config = config or {}
    tasks = [t for t in summary.get("tasks") or [] if isinstance(t, dict)]
    versions = _task_versions(config, [str(t.get("task_id")) for t in tasks])
    filters = _filters(config)
    rows = []
    for task in tasks:
        task_id = str(task.get("task_id"))
        n_shot = _n_shot(config, task.get("dataset_id"))
        for name, agg in (task.get("metrics") or {}).items():
            if not isinstance(agg, dict):
                continue
            metric, flt = filters.get(name, (name, "none"))
            rows.append(ResultRow(task_id, versions[task_id], n_shot, flt, metric_label(metric), agg.get("value"),
                                  agg.get("stderr"), agg.get("ci95"), agg.get("ci_method"), int(agg.get("count") or 0)))
    return rows


def markdown_table(rows: list[ResultRow]) -> str:
    """A Markdown table padded to line up in a terminal, as lm-eval's make_table prints it."""
    cells = [_HEAD, *(r.cells() for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(_HEAD))]

    def line(row: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.rjust(w) if h in _RIGHT else c.ljust(w)
                                 for c, w, h in zip(row, widths, _HEAD)) + " |"

    rule = "|" + "|".join("-" * (w + 1) + ":" if h in _RIGHT else "-" * (w + 2) for w, h in zip(widths, _HEAD)) + "|"
    return "\n".join([line(_HEAD), rule, *(line(r) for r in cells[1:])])


def _notes(rows: list[ResultRow]) -> str:
    methods = list(dict.fromkeys(r.ci_method for r in rows if r.ci_method))
    where = {WILSON: " for 0/1 metrics (always within [0, 1])"}
    text = "Stderr: sample standard error of the mean (ddof=1), as lm-evaluation-harness reports it."
    if methods:
        text += " 95% CI: " + "; ".join(m + where.get(m, "") for m in methods) + "."
    return text


def results_text(summary: dict[str, Any], config: dict[str, Any] | None) -> str:
    """The table and a line on what stderr and the interval are; what `gage run` / `gage eval` print."""
    rows = result_rows(summary, config)
    if not rows:
        return "no metrics recorded"
    return markdown_table(rows) + "\n\n" + _notes(rows) + "".join(f"\n\n{text}" for text in _sections(summary))


def _sections(summary: dict[str, Any]) -> list[str]:
    """Tables that summary generators render themselves (`markdown` in their section), e.g. BFCL's leaderboard."""
    generators = summary.get("summary_generators") if isinstance(summary.get("summary_generators"), dict) else {}
    return [section["markdown"] for section in generators.values()
            if isinstance(section, dict) and isinstance(section.get("markdown"), str)]


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def run_results_text(run_dir: Path, summary: dict[str, Any] | None = None) -> str:
    """results_text of a run directory (summary given or read from summary.json, config from config.json)."""
    summary = summary if summary is not None else _read(Path(run_dir) / "summary.json") or {}
    return results_text(summary, _read(Path(run_dir) / "config.json"))


def write_results_markdown(run_dir: Path, summary: dict[str, Any] | None = None) -> Path:
    """Write run_dir/results.md (atomically) and return its path."""
    run_dir = Path(run_dir)
    summary = summary if summary is not None else _read(run_dir / "summary.json") or {}
    run = summary.get("run") if isinstance(summary.get("run"), dict) else {}
    head = (f"# Results: {run.get('run_id') or run_dir.name}\n\n"
            f"status {run.get('status', '?')} · {summary.get('sample_count', 0):,} samples, "
            f"{(summary.get('failures') or {}).get('total', 0):,} failed · finished {run.get('finished_at') or '-'}"
            "\n\n")
    out = run_dir / RESULTS_FILE
    tmp = out.with_suffix(".md.tmp")
    tmp.write_text(head + run_results_text(run_dir, summary) + "\n", encoding="utf-8")
    os.replace(tmp, out)
    return out

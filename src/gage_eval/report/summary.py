"""Build summary.json by streaming samples.jsonl, the single source of truth: a resumed run and an
uninterrupted one therefore report the same metrics."""
from __future__ import annotations

import os
import platform
from collections import Counter
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

from gage_eval.engine.failures import FailureTally
from gage_eval.metrics.aggregate import MetricAggregator

_PACKAGES = ("gage-eval", "pydantic", "aiohttp", "datasets", "numpy", "orjson", "jinja2", "transformers", "torch")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def iter_records(path: Path):
    if not path.exists():
        return
    with path.open("rb") as fh:
        for line in fh:
            if line.endswith(b"\n"):
                try:
                    yield orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue


class _TaskTally:
    def __init__(self, aggregations: dict[str, str]) -> None:
        self.agg = MetricAggregator(aggregations)
        self.ok = 0
        self.failed = 0
        self.fail_reasons: Counter[str] = Counter()
        self.classes = FailureTally()

    def add(self, record: dict[str, Any]) -> None:
        if record.get("status") == "ok":
            self.ok += 1
        else:
            self.failed += 1
            err = record.get("error") or {}
            self.fail_reasons[f"{err.get('step', '?')}:{err.get('type', '?')}"] += 1
            self.classes.add(record)
        if record.get("metrics"):
            self.agg.add(record["metrics"])


def aggregate_samples(path: Path, task_aggregations: dict[str, dict[str, str]],
                      generators: dict[str, Any]) -> dict[str, Any]:
    """Per-task and overall (micro-averaged over all samples) metrics, failure counts, generator output."""
    tallies: dict[str, _TaskTally] = {}
    all_aggs = {k: v for aggs in task_aggregations.values() for k, v in aggs.items()}
    overall = MetricAggregator(all_aggs)
    for record in iter_records(path):
        task_id = record.get("task_id", "?")
        tally = tallies.get(task_id)
        if tally is None:
            tally = tallies[task_id] = _TaskTally(task_aggregations.get(task_id, {}))
        tally.add(record)
        if record.get("metrics"):
            overall.add(record["metrics"])
        for gen in generators.values():
            gen.add(record)
    tasks = {tid: {"sample_count": t.ok + t.failed, "ok": t.ok, "failed": t.failed,
                   "metrics": t.agg.results(), "failures": dict(t.fail_reasons),
                   "failure_classes": t.classes.as_list()} for tid, t in tallies.items()}
    add_task_metrics(tasks, generators)
    failures: Counter[str] = Counter()
    classes = FailureTally()
    for t in tallies.values():
        failures.update(t.fail_reasons)
        classes.merge(t.classes)
    return {"tasks": tasks, "metrics": overall.results(),
            "sample_count": sum(t.ok + t.failed for t in tallies.values()),
            "failures": {"total": sum(t.failed for t in tallies.values()), "by_reason": dict(failures),
                         "classes": classes.as_list()},
            "generators": {name: gen.result() for name, gen in generators.items()}}


def add_task_metrics(tasks: dict[str, dict[str, Any]], generators: dict[str, Any]) -> None:
    """Metrics a generator derives from a whole task (e.g. LiveBench's mean of category means), added beside the
    per-sample aggregates so results.md, report.html and `gage view` show them like any other metric. A
    generator offers them through `task_metrics() -> {task_id: {name: aggregate}}`; names never replace a
    per-sample metric's."""
    for gen in generators.values():
        derive = getattr(gen, "task_metrics", None)
        if not callable(derive):
            continue
        for task_id, metrics in derive().items():
            if task_id in tasks:
                for name, agg in metrics.items():
                    tasks[task_id]["metrics"].setdefault(name, agg)


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str))
    os.replace(tmp, path)

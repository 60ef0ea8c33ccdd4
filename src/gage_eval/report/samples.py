"""Incremental, fault-tolerant reading of samples.jsonl into compact browser rows.

One scanner serves the static report (one pass) and the live viewer (polled while the engine appends):
it only ever consumes complete lines, so a torn last line of a killed or running process is reported,
never parsed, and picked up later if the writer completes it.
"""
from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from gage_eval.metrics.aggregate import MetricAggregator
from gage_eval.report.triage import Triage

PREVIEW_CHARS = 100
TRIM_CHARS = 8000
TRIM_ITEMS = 200
_READ_BLOCK = 8 << 20
# Metrics that measure cost rather than quality never become the "primary" (correctness) metric.
_NON_SCORE = re.compile(r"latency|time|duration|tokens?|length|cost|_ms$|_s$", re.IGNORECASE)

# Row layout (arrays, not objects, to keep 100k rows small); report.js reads the same indices.
ROW_FIELDS = ("task", "id", "seq", "ok", "score", "reason", "latency_ms", "prompt", "answer")


def primary_metric(metrics: dict[str, Any]) -> str | None:
    """The first quality metric of a record with a value in [0, 1], in the config's metric order."""
    for name, value in metrics.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= value <= 1.0 \
                and not _NON_SCORE.search(name):
            return name
    return None


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def prompt_text(sample: dict[str, Any]) -> str:
    prompt = (sample.get("inputs") or {}).get("prompt")
    if isinstance(prompt, str):
        return prompt
    msgs = [m for m in sample.get("messages") or [] if isinstance(m, dict) and m.get("role") in ("user", "system")]
    return _text(msgs[-1].get("content")) if msgs else ""


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS - 1] + "…"


def error_reason(record: dict[str, Any]) -> str | None:
    if record.get("status") == "ok":
        return None
    err = record.get("error") or {}
    return f"{err.get('step', '?')}:{err.get('type', '?')}"  # same key as summary.json failures


def latency_ms(record: dict[str, Any]) -> float | None:
    value = (record.get("model_output") or {}).get("latency_ms")
    if value is None:
        value = (record.get("timings_ms") or {}).get("inference")
    return float(value) if isinstance(value, (int, float)) else None


def trim(obj: Any, limit: int = TRIM_CHARS) -> Any:
    """Bound what one sample costs in a self-contained report; samples.jsonl keeps everything."""
    if isinstance(obj, str):
        return obj if len(obj) <= limit else f"{obj[:limit]}… [{len(obj) - limit} more characters in samples.jsonl]"
    if isinstance(obj, dict):
        out = obj  # copied only when something inside is cut: most records pass through untouched
        for k, v in obj.items():
            if isinstance(v, _NESTED):
                cut = trim(v, limit)
                if cut is not v:
                    if out is obj:
                        out = dict(obj)
                    out[k] = cut
        return out
    if isinstance(obj, list):
        head = obj[:TRIM_ITEMS] if len(obj) > TRIM_ITEMS else obj
        cuts = [trim(v, limit) if isinstance(v, _NESTED) else v for v in head]
        if len(obj) > TRIM_ITEMS:
            return cuts + [f"… [{len(obj) - TRIM_ITEMS} more items in samples.jsonl]"]
        return obj if all(c is v for c, v in zip(cuts, obj)) else cuts
    return obj


_NESTED = (str, dict, list)


class _Tally:
    def __init__(self) -> None:
        self.ok = 0
        self.failed = 0
        self.reasons: Counter[str] = Counter()
        self.metrics = MetricAggregator()


class SampleScanner:
    """Rows of samples.jsonl read so far, with each row's byte span for on-demand detail reads."""

    def __init__(self, path: Path, max_rows: int | None = None) -> None:
        self.path = path
        self.max_rows = max_rows  # rows kept for browsing; every record still counts in the tallies
        self.lock = threading.Lock()  # the viewer polls one scanner from several request threads
        self._reset()
        self.epoch = 0

    def _reset(self) -> None:
        self.offset = 0
        self.rows: list[list[Any]] = []
        self.spans: list[tuple[int, int]] = []
        self.primary: dict[str, str] = {}
        self.task_order: list[str] = []
        self.corrupt_lines = 0
        self.omitted_rows = 0
        self.tail_bytes = 0  # bytes after the last newline: a torn write, or a line being written
        self.tallies: dict[str, _Tally] = {}
        self.overall = MetricAggregator()
        self.triage = Triage()  # failed and wrong samples by cause (report/triage.py)

    def poll(self, on_record: Callable[[int, dict[str, Any]], None] | None = None) -> int:
        """Consume complete lines appended since the last poll; returns how many rows were added."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return 0
        if size < self.offset:  # a resumed attempt compacted the file: start over
            self._reset()
            self.epoch += 1
        before = len(self.rows)
        with self.path.open("rb") as fh:
            fh.seek(self.offset)
            pending = b""
            while True:
                block = fh.read(_READ_BLOCK)
                if not block:
                    break
                data = pending + block
                cut = data.rfind(b"\n") + 1
                pending = data[cut:]
                self._consume(data[:cut], self.offset, on_record)
                self.offset += cut
        self.tail_bytes = len(pending)
        return len(self.rows) - before

    def _consume(self, data: bytes, base: int, on_record: Callable[[int, dict[str, Any]], None] | None) -> None:
        start = 0
        end = len(data)
        while start < end:
            nl = data.index(b"\n", start)
            line = data[start:nl]
            if line.strip():
                try:
                    record = orjson.loads(line)
                    row = self._row(record)
                except (orjson.JSONDecodeError, ValueError, TypeError, AttributeError):
                    self.corrupt_lines += 1  # not JSON, or JSON that is not a sample record
                else:
                    self._tally(row, record)
                    self.triage.add(record, self.primary.get(row[0]))
                    if self.max_rows is not None and len(self.rows) >= self.max_rows:
                        self.omitted_rows += 1  # bounded memory for huge runs: counted, not browsable here
                    else:
                        self.spans.append((base + start, nl - start))
                        self.rows.append(row)
                        if on_record is not None:
                            on_record(len(self.rows) - 1, record)
            start = nl + 1

    def _row(self, record: Any) -> list[Any]:
        if not isinstance(record, dict) or not all(
                isinstance(record.get(k) or {}, dict) for k in ("sample", "model_output", "metrics", "error")):
            raise ValueError("not a sample record")
        task = str(record.get("task_id", "?"))
        if task not in self.primary:
            if task not in self.task_order:
                self.task_order.append(task)
            name = primary_metric(record.get("metrics") or {})
            if name:
                self.primary[task] = name
        ok = record.get("status") == "ok"
        score = (record.get("metrics") or {}).get(self.primary.get(task, ""))
        sample = record.get("sample") or {}
        answer = (record.get("model_output") or {}).get("answer")
        return [task, str(record.get("sample_id", sample.get("id", "?"))), record.get("seq"), int(ok),
                float(score) if isinstance(score, (int, float)) and ok else None, error_reason(record),
                latency_ms(record), _preview(prompt_text(sample)), _preview(answer if isinstance(answer, str) else "")]

    def _tally(self, row: list[Any], record: dict[str, Any]) -> None:
        tally = self.tallies.setdefault(row[0], _Tally())
        if row[3]:
            tally.ok += 1
        else:
            tally.failed += 1
            tally.reasons[row[5]] += 1
        metrics = {k: v for k, v in (record.get("metrics") or {}).items() if isinstance(v, (int, float))}
        tally.metrics.add(metrics)
        self.overall.add(metrics)

    def partial_summary(self) -> dict[str, Any]:
        """summary.json's metric sections from the rows read so far (default `mean` aggregation), for runs
        without a summary; summary.json itself is never rewritten from here."""
        reasons: Counter[str] = Counter()
        tasks = []
        for task_id, t in self.tallies.items():
            reasons.update(t.reasons)
            tasks.append({"task_id": task_id, "sample_count": t.ok + t.failed, "ok": t.ok, "failed": t.failed,
                          "metrics": t.metrics.results(), "failures": dict(t.reasons)})
        return {"tasks": tasks, "metrics": self.overall.results(), "sample_count": len(self.rows) + self.omitted_rows,
                "failures": {"total": sum(t.failed for t in self.tallies.values()), "by_reason": dict(reasons)}}

    def record(self, index: int) -> dict[str, Any] | None:
        """The full record of one row, read back from disk by its byte span."""
        if not 0 <= index < len(self.spans):
            return None
        start, length = self.spans[index]
        try:
            with self.path.open("rb") as fh:
                fh.seek(start)
                return orjson.loads(fh.read(length))
        except (OSError, orjson.JSONDecodeError):
            return None  # the file was compacted under us; the client re-polls with the new epoch

    def warnings(self) -> list[str]:
        out = []
        if self.tail_bytes:
            out.append(f"samples.jsonl ends with an incomplete line ({self.tail_bytes} bytes): a sample being "
                       "written, or a torn write of a killed run; it is not shown")
        if self.omitted_rows:
            out.append(f"the sample list holds the first {len(self.rows):,} samples; {self.omitted_rows:,} more are "
                       "counted in the metrics but not listed here (`gage view` lists every sample)")
        if self.corrupt_lines:
            out.append(f"samples.jsonl has {self.corrupt_lines} unreadable line(s); they are skipped")
        return out

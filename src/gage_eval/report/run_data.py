"""Read a run directory tolerantly: a run in progress or killed still shows what it has and says what is missing."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

PREVIEW = 160  # characters of prompt / answer shown in the sample list
DETAIL = 4000  # characters kept per field in the embedded sample detail


@dataclass
class RunData:
    run_dir: Path
    summary: dict[str, Any] | None
    problems: list[str] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return self.run_dir.name

    @property
    def status(self) -> str:
        if self.summary is None:
            return "in progress or killed"
        return str(self.summary.get("run", {}).get("status", "unknown"))


def load_run(run_dir: Path) -> RunData:
    problems = []
    summary = None
    path = run_dir / "summary.json"
    if not path.exists():
        problems.append("summary.json is missing: the run is still going or was killed; showing samples.jsonl only")
    else:
        try:
            summary = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError:
            problems.append("summary.json is not valid JSON (written partially?); showing samples.jsonl only")
    if not (run_dir / "samples.jsonl").exists():
        problems.append("samples.jsonl is missing: no sample has finished yet")
    return RunData(run_dir, summary, problems)


def iter_records(run_dir: Path, start_line: int = 0, problems: list[str] | None = None
                 ) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) from samples.jsonl; a torn or corrupt line is skipped and reported once."""
    path = run_dir / "samples.jsonl"
    if not path.exists():
        return
    with path.open("rb") as fh:
        for number, line in enumerate(fh):
            if number < start_line:
                continue
            if not line.endswith(b"\n"):
                if problems is not None:
                    problems.append(f"samples.jsonl line {number + 1} is incomplete (being written, or cut by a kill)")
                return
            try:
                yield number, orjson.loads(line)
            except orjson.JSONDecodeError:
                if problems is not None:
                    problems.append(f"samples.jsonl line {number + 1} is not valid JSON and was skipped")


def _clip(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + f"… [{len(value) - limit} more characters]"
    if isinstance(value, list):
        return [_clip(v, limit) for v in value[:50]]
    if isinstance(value, dict):
        return {k: _clip(v, limit) for k, v in list(value.items())[:50]}
    return value


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", f"[{p.get('type')}]") for p in content if isinstance(p, dict))
    return ""


def primary_correct(metrics: dict[str, Any]) -> bool | None:
    """Correct/incorrect from the first metric that is a 0/1 score; None when no such metric exists."""
    for value in metrics.values():
        if value in (0, 1, 0.0, 1.0) and not isinstance(value, bool):
            return value == 1
    return None


def compact(record: dict[str, Any]) -> dict[str, Any]:
    """What the sample browser needs about one sample, bounded in size."""
    sample = record.get("sample") or {}
    output = record.get("model_output") or {}
    messages = sample.get("messages") or []
    prompt = (sample.get("inputs") or {}).get("prompt") or " ".join(_text(m.get("content")) for m in messages)
    metrics = record.get("metrics") or {}
    return {
        "t": record.get("task_id"), "id": record.get("sample_id"), "seq": record.get("seq"),
        "st": record.get("status"), "ok": primary_correct(metrics),
        "p": str(prompt)[:PREVIEW], "a": str(output.get("answer", ""))[:PREVIEW],
        "m": metrics, "lat": output.get("latency_ms"),
        "err": (record.get("error") or {}).get("message", "")[:PREVIEW] if record.get("error") else "",
        "d": {"messages": _clip(messages, DETAIL), "label": _clip(sample.get("label"), DETAIL),
              "model_output": _clip(output, DETAIL), "judge_output": _clip(record.get("judge_output") or {}, DETAIL),
              "metric_details": _clip(record.get("metric_details") or {}, DETAIL),
              "error": _clip(record.get("error"), DETAIL)},
    }

"""`gage run --only-samples FILE`: rerun just the listed samples (e.g. those `gage triage` grouped).

FILE is JSON lines ``{"task_id": ..., "sample_id": ..., "source_run": ...}`` (what `gage triage` writes; task_id
and source_run optional) or plain text, one sample id per line (``#`` comments allowed). Ids without a task apply
to every task. The samples go into the run directory of this run — a new --run-id, which summary.json links to
the source run — and are not limited by --max-samples' position: the listed ids are found wherever they are.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from gage_eval.errors import ConfigError
from gage_eval.sample import Sample


@dataclass
class SampleSelection:
    file: Path
    by_task: dict[str | None, set[str]]
    source_run: str | None = None
    found: set[tuple[str | None, str]] = field(default_factory=set)

    @property
    def requested(self) -> int:
        return sum(len(ids) for ids in self.by_task.values())

    def wants(self, task_id: str, sample_id: str) -> bool:
        return sample_id in self.by_task.get(task_id, ()) or sample_id in self.by_task.get(None, ())

    def filter(self, task_id: str, samples: Iterable[Sample]) -> Iterator[Sample]:
        for sample in samples:
            if self.wants(task_id, sample.id):
                self.found.add((task_id if sample.id in self.by_task.get(task_id, ()) else None, sample.id))
                yield sample

    def missing(self) -> list[str]:
        return sorted(f"{t}/{s}" if t else s for t, ids in self.by_task.items() for s in ids
                      if (t, s) not in self.found)

    def report(self) -> dict[str, Any]:
        missing = self.missing()
        return {"file": str(self.file), "requested": self.requested, "found": self.requested - len(missing),
                "missing": missing[:20], "rerun_of": self.source_run}


def load_selection(path: Path) -> SampleSelection:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read the sample list: {exc.strerror or exc}", file=str(path), path="--only-samples",
                          fix="give the file `gage triage RUN_DIR` wrote (RUN_DIR/triage/*.jsonl) or one sample id "
                              "per line") from None
    by_task: dict[str | None, set[str]] = {}
    sources: set[str] = set()
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("{"):
            try:
                item = orjson.loads(line)
                sample_id = str(item["sample_id"])
            except (orjson.JSONDecodeError, KeyError, TypeError):
                raise ConfigError(f"line {number} is not a JSON object with sample_id", file=str(path),
                                  path="--only-samples", fix="write {\"task_id\": ..., \"sample_id\": ...} per line, "
                                                             "or a bare sample id") from None
            task = item.get("task_id")
            by_task.setdefault(str(task) if task is not None else None, set()).add(sample_id)
            if item.get("source_run"):
                sources.add(str(item["source_run"]))
        else:
            by_task.setdefault(None, set()).add(line)
    if not by_task:
        raise ConfigError("the sample list is empty", file=str(path), path="--only-samples",
                          fix="list at least one sample id (a run of nothing would report 'completed')")
    return SampleSelection(path, by_task, sources.pop() if len(sources) == 1 else None)

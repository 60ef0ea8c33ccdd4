"""Resume: read what an earlier attempt of the same run finished, and compact the file.

Compaction keeps the first successful record of each (task, sample), drops failed records (they are
retried) and a torn last line from a killed process, so samples.jsonl never holds duplicates.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import orjson


@dataclass
class ResumeState:
    done: dict[str, set[str]] = field(default_factory=dict)  # task_id -> sample ids
    kept: int = 0
    dropped_failed: int = 0
    dropped_corrupt: int = 0

    def is_done(self, task_id: str, sample_id: str) -> bool:
        ids = self.done.get(task_id)
        return ids is not None and sample_id in ids

    def count(self, task_id: str) -> int:
        return len(self.done.get(task_id, ()))


def load_and_compact(path: Path, retry_failed: bool = True) -> ResumeState:
    state = ResumeState()
    if not path.exists():
        return state
    tmp = path.with_suffix(".jsonl.compact")
    with path.open("rb") as src, tmp.open("wb") as dst:
        for line in src:
            if not line.endswith(b"\n"):
                state.dropped_corrupt += 1  # torn write of a killed process
                continue
            try:
                rec = orjson.loads(line)
                task_id, sample_id, status = rec["task_id"], rec["sample_id"], rec.get("status", "ok")
            except (orjson.JSONDecodeError, KeyError, TypeError):
                state.dropped_corrupt += 1
                continue
            if status != "ok" and retry_failed:
                state.dropped_failed += 1
                continue
            ids = state.done.setdefault(task_id, set())
            if sample_id in ids:
                continue
            ids.add(sample_id)
            dst.write(line)
            state.kept += 1
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(tmp, path)
    return state

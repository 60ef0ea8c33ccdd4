"""Event trace: every key event goes to events.jsonl and to any extra sinks (e.g. HTTP)."""
from __future__ import annotations

import itertools
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

import orjson


class EventSink(Protocol):
    def emit(self, event: dict[str, Any]) -> None: ...

    async def aclose(self) -> None: ...


class FileSink:
    """Appends events as JSON lines and flushes each, so a crash keeps the trail."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fh = path.open("ab")

    def emit(self, event: dict[str, Any]) -> None:
        self._fh.write(orjson.dumps(event, default=str) + b"\n")
        self._fh.flush()

    async def aclose(self) -> None:
        self._fh.close()


class EventTrace:
    def __init__(self, run_id: str, sinks: list[EventSink]) -> None:
        self.run_id = run_id
        self.sinks = sinks
        self._ids = itertools.count(1)
        self._session = f"{int(time.time() * 1000):x}"  # distinguishes ids across resumed attempts

    def emit(self, event: str, payload: dict[str, Any] | None = None, sample_id: str | None = None) -> None:
        record = {"run_id": self.run_id, "event_id": f"{self._session}-{next(self._ids)}", "event": event,
                  "payload": payload or {}, "sample_id": sample_id,
                  "created_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds")}
        for sink in self.sinks:
            sink.emit(record)

    async def aclose(self) -> None:
        for sink in self.sinks:
            await sink.aclose()

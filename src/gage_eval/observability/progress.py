"""Progress display: a rich bar on a terminal, plain periodic lines otherwise (CI logs, pipes)."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO


@dataclass
class LoopStats:
    """Live counters of one task's sample loop, read by the progress display and the gauges."""

    task_id: str
    total: int | None = None
    done: int = 0
    failed: int = 0
    skipped: int = 0  # already finished by an earlier attempt (resume)
    inflight: int = 0
    queue_depth: int = 0
    started: float = field(default_factory=time.monotonic)

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        total = f"/{self.total}" if self.total is not None else ""
        return (f"[{self.task_id}] {self.done + self.skipped}{total} done ({self.skipped} resumed), "
                f"{self.failed} failed, {self.rate():.1f} samples/s, inflight {self.inflight}, "
                f"queue {self.queue_depth}")


class PlainProgress:
    def __init__(self, stream: TextIO | None = None, interval_s: float = 5.0) -> None:
        # Looked up per instance: a default bound at import time keeps a stderr that may since be replaced
        # (pytest's capture, a redirected stream) and then closed.
        self.stream = stream if stream is not None else sys.stderr
        self.interval_s = interval_s
        self._last = 0.0

    def start(self, stats: LoopStats) -> None:
        self._last = time.monotonic()

    def update(self, stats: LoopStats, final: bool = False) -> None:
        now = time.monotonic()
        if final or now - self._last >= self.interval_s:
            self._last = now
            print(stats.line(), file=self.stream, flush=True)

    def stop(self) -> None:
        return None


class RichProgress:
    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TextColumn("{task.fields[detail]}"), TimeElapsedColumn(), transient=False)
        self._task: Any = None

    def start(self, stats: LoopStats) -> None:
        self._progress.start()
        self._task = self._progress.add_task(stats.task_id, total=stats.total, detail="")

    def update(self, stats: LoopStats, final: bool = False) -> None:
        detail = (f"{stats.rate():.1f}/s inflight {stats.inflight} queue {stats.queue_depth} "
                  f"errors {stats.failed}")
        self._progress.update(self._task, completed=stats.done + stats.skipped, total=stats.total, detail=detail)

    def stop(self) -> None:
        self._progress.stop()


class NoProgress:
    def start(self, stats: LoopStats) -> None: ...

    def update(self, stats: LoopStats, final: bool = False) -> None: ...

    def stop(self) -> None: ...


def make_progress(mode: str, interval_s: float = 5.0) -> PlainProgress | RichProgress | NoProgress:
    if mode == "off":
        return NoProgress()
    if mode == "rich" or (mode == "auto" and sys.stderr.isatty()):
        return RichProgress()
    return PlainProgress(interval_s=interval_s)

"""Live progress of a sweep: which checkpoint, which benchmark and phase, samples done, and the sweep's ETA.

Samples done are counted from the active run's samples.jsonl (each finished sample is one flushed line), so
the display needs nothing from inside the engine. The ETA prices the remaining (model, benchmark, phase) units
at the seconds per sample measured so far in that phase, plus the measured server start time per checkpoint
still to be served; it says "?" until one unit of a kind has finished.
"""
from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else (
        f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s")


def _lines(path: Path) -> int:
    try:
        with path.open("rb") as fh:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 16), b""))
    except OSError:
        return 0


@dataclass
class _Active:
    label: str
    phase: str
    samples_path: Path
    expected: int | None
    at_start: int
    started: float = field(default_factory=time.monotonic)


class SweepProgress:
    def __init__(self, mode: str = "auto", stream: TextIO | None = None, interval_s: float = 5.0) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.live = mode == "auto" and self.stream.isatty()
        self.enabled = mode != "off"
        self.interval_s = 0.5 if self.live else interval_s
        self.pending: dict[str, list[tuple[str, int | None]]] = {"generate": [], "evaluate": []}  # (bench, samples)
        self.per_sample: dict[str, list[float]] = {"generate": [], "evaluate": []}
        self.expected: dict[tuple[str, str], int] = {}  # (bench, phase) -> samples of a finished unit
        self.servers_left = 0
        self.server_starts: list[float] = []
        self.checkpoint = ""
        self.active: _Active | None = None
        self.started = time.monotonic()
        self._task: asyncio.Task[None] | None = None
        self._width = 0

    # ---- plan ----------------------------------------------------------------------------------------
    def plan(self, phase: str, benches: list[str], servers: int = 0) -> None:
        self.pending[phase] = [(b, None) for b in benches]
        self.servers_left += servers

    def server_started(self, seconds: float) -> None:
        self.server_starts.append(seconds)
        self.servers_left = max(0, self.servers_left - 1)

    def server_skipped(self) -> None:
        self.servers_left = max(0, self.servers_left - 1)

    # ---- units ---------------------------------------------------------------------------------------
    def begin(self, checkpoint: str, bench: str, phase: str, run_dir: Path, limit: int | None) -> None:
        self.checkpoint = checkpoint
        path = run_dir / "samples.jsonl"
        expected = self.expected.get((bench, phase))
        self.active = _Active(f"{bench}", phase, path, expected, _lines(path))
        self._drop_pending(phase, bench)
        self.emit(force=True)

    def end(self, bench: str, phase: str, samples: int, new_samples: int) -> None:
        if self.active is not None and new_samples > 0:
            self.per_sample[phase].append((time.monotonic() - self.active.started) / new_samples)
        if samples:
            self.expected[(bench, phase)] = samples
        self.active = None

    def skip(self, bench: str, phase: str) -> None:
        self._drop_pending(phase, bench)

    def _drop_pending(self, phase: str, bench: str) -> None:
        for i, (name, _) in enumerate(self.pending[phase]):
            if name == bench:
                del self.pending[phase][i]
                return

    # ---- ETA -----------------------------------------------------------------------------------------
    def eta(self) -> float | None:
        total = 0.0
        for phase, items in self.pending.items():
            for bench, _ in items:
                samples = self.expected.get((bench, phase))
                rate = self.per_sample[phase]
                if samples is None or not rate:
                    return None
                total += samples * sum(rate) / len(rate)
        if self.active is not None:
            rate = self.per_sample[self.active.phase]
            left = self.active.expected - _lines(self.active.samples_path) if self.active.expected else None
            if left is None or not rate:
                return None
            total += max(0, left) * sum(rate) / len(rate)
        if self.servers_left:
            if not self.server_starts:
                return None
            total += self.servers_left * sum(self.server_starts) / len(self.server_starts)
        return total

    # ---- display -------------------------------------------------------------------------------------
    def line(self) -> str:
        if self.active is None:
            return f"[{self.checkpoint}] sweep ETA {_fmt(self.eta())}"
        done = _lines(self.active.samples_path)
        total = f"/{self.active.expected}" if self.active.expected else ""
        return (f"[{self.checkpoint}] {self.active.phase} {self.active.label}: {done}{total} samples · "
                f"elapsed {_fmt(time.monotonic() - self.started)} · sweep ETA {_fmt(self.eta())}")

    def note(self, text: str) -> None:
        if not self.enabled:
            return
        self._clear()
        print(text, file=self.stream, flush=True)

    def emit(self, force: bool = False) -> None:
        if not self.enabled or (self.active is None and not force):
            return
        text = self.line()
        if self.live:
            pad = max(0, self._width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self.stream.flush()
            self._width = len(text)
        else:
            print(text, file=self.stream, flush=True)

    def _clear(self) -> None:
        if self.live and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self._width = 0

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            self.emit()

    def start(self) -> None:
        if self.enabled:
            self._task = asyncio.ensure_future(self._tick())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._clear()

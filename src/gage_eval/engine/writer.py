"""samples.jsonl writer: each finished sample is on disk (flushed to the OS) before it counts as done."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson


def encode_record(record: dict[str, Any]) -> bytes:
    """One samples.jsonl line, newline included."""
    return orjson.dumps(record, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE)


class SamplesWriter:
    """Unbuffered by default: a SIGKILL loses nothing that was reported done. The buffered mode trades
    that for throughput and flushes every `threshold` lines or 0.5 s."""

    def __init__(self, path: Path, *, buffered: bool = False, threshold: int = 256) -> None:
        self.path = path
        self._fh = path.open("ab")
        self._buffered = buffered
        self._threshold = threshold
        self._pending = 0
        self._last_flush = time.monotonic()
        self.written = 0

    def write(self, record: dict[str, Any]) -> None:
        self._append(encode_record(record), 1)

    def write_lines(self, lines: list[bytes]) -> None:
        """Records encoded by `encode_record` elsewhere (a distributed worker's batch), in one write."""
        self._append(b"".join(lines), len(lines))

    def _append(self, data: bytes, count: int) -> None:
        self._fh.write(data)
        self.written += count
        if not self._buffered:
            self._fh.flush()
            return
        self._pending += count
        now = time.monotonic()
        if self._pending >= self._threshold or now - self._last_flush > 0.5:
            self.flush()

    def flush(self) -> None:
        self._fh.flush()
        self._pending = 0
        self._last_flush = time.monotonic()

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.flush()
            self._fh.close()

"""Standard output that the reader may close early (`gage perf ... | head -3`).

Without this, the first write after `head` exits raises BrokenPipeError in the middle of the work, and the
command dies before writing its result files. Here a closed pipe only ends the printing: the work goes on,
the files are written, and the exit-time flush cannot fail either.
"""
from __future__ import annotations

import os
import sys
from typing import TextIO


class PipeSafeStdout:
    """A file-like for rich's Console: writes to stdout until the reader goes away, then drops output."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.closed_by_reader = False

    def _reader_gone(self) -> None:
        self.closed_by_reader = True
        try:
            # Point fd 1 at /dev/null so that the interpreter's own flush at exit does not raise again.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass

    def write(self, text: str) -> int:
        if self.closed_by_reader:
            return len(text)
        try:
            self.stream.write(text)
            self.stream.flush()  # flush now: a closed pipe is found here, not at some later buffer flush
        except BrokenPipeError:
            self._reader_gone()
        return len(text)

    def flush(self) -> None:
        if not self.closed_by_reader:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._reader_gone()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self.stream, "encoding", "utf-8")

    def __getattr__(self, name: str) -> object:  # errors, buffer, … of the wrapped stream
        return getattr(self.stream, name)


def install() -> None:
    """Every verb's printing survives an early-closing reader (`gage run … | head -1`): its exit status is the
    run's, not a broken pipe's."""
    if not isinstance(sys.stdout, PipeSafeStdout) and sys.stdout is not None:
        sys.stdout = PipeSafeStdout(sys.stdout)  # type: ignore[assignment]

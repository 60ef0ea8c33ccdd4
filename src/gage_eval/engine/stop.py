"""Stopping a run on SIGINT / SIGTERM: cancel the run's task and raise a flag that model threads poll.

Why not rely on Python's SIGINT → KeyboardInterrupt: SIGTERM used to be forwarded as a simulated SIGINT,
which does nothing when SIGINT is ignored (background jobs of non-interactive shells, some schedulers), so
the run went on to the end and exited 0. And a local model works in a thread that a cancelled task never
reaches: without a flag it finishes its whole batch (minutes for a long generation) before anything stops.

The handlers go through `loop.add_signal_handler`, so the event loop wakes at once even while it only waits
for a model thread. A second signal exits immediately (130): finished samples are already on disk.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator

from gage_eval.errors import RunInterrupted

log = logging.getLogger("gage_eval")

_flag = threading.Event()
_depth = 0  # nested runs (e.g. an arena's model runs) share the outermost run's handlers
_hard_exit_hooks: list[Callable[[], None]] = []


def on_hard_exit(hook: Callable[[], None]) -> None:
    """Run `hook` before the second signal's immediate exit (which skips every finally): for resources outside
    the process that would otherwise outlive it (Docker containers)."""
    if hook not in _hard_exit_hooks:
        _hard_exit_hooks.append(hook)


def requested() -> bool:
    """True once a stop signal arrived during the current run; model threads check it between steps."""
    return _flag.is_set()


def request() -> None:
    """Raise the flag (the signal handlers do; tests and embedding code may)."""
    _flag.set()


def reset() -> None:
    _flag.clear()


def _on_signal(task: asyncio.Task, sig: int) -> None:
    if _flag.is_set():
        sys.stderr.write("second interrupt: exiting now; finished samples are saved, rerun to resume\n")
        sys.stderr.flush()
        from gage_eval.serving.managed import terminate_all  # os._exit skips every finally and atexit hook

        terminate_all()
        for hook in _hard_exit_hooks:
            with contextlib.suppress(Exception):
                hook()
        os._exit(RunInterrupted.exit_code)
    request()
    log.info("%s received: stopping after the current model step", signal.Signals(sig).name)
    task.cancel()


@contextlib.contextmanager
def stop_on_signals(task: asyncio.Task) -> Iterator[None]:
    """While the block runs, SIGINT and SIGTERM cancel `task` (unless the process ignores them)."""
    global _depth
    loop = task.get_loop()
    installed: list[tuple[int, object]] = []
    if _depth == 0:
        reset()  # a stop of an earlier run in this process (API use, tests) must not stop this one
    if _depth == 0 and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(sig)
            if previous == signal.SIG_IGN:  # e.g. nohup-style launchers mean it: leave the signal ignored
                continue
            try:
                loop.add_signal_handler(sig, _on_signal, task, sig)
            except (NotImplementedError, RuntimeError, ValueError):  # loops without signal support
                continue
            installed.append((sig, previous))
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        for sig, previous in installed:
            loop.remove_signal_handler(sig)
            signal.signal(sig, previous if previous is not None else signal.SIG_DFL)  # type: ignore[arg-type]

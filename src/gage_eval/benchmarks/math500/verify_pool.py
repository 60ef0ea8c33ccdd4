"""A small pool of math-verify worker processes (see verify_worker.py for why they are processes).

math_verify bounds each parse and each comparison with SIGALRM, which only works in the main thread: the
metric's scoring runs in worker threads of the event loop, where it would have to run without any time
limit, and a pathological expression (a huge power, a deeply nested radical) could then spin forever in a
thread that can never be stopped. A worker process runs math_verify in *its* main thread with the usual
timeouts (so scores equal direct math_verify calls), and the pool kills a worker that does not answer
within ``deadline`` seconds — the sample is scored 0 with ``error: timeout`` and a fresh worker replaces it.

`VerifyPool.score` is blocking and thread-safe; the metric calls it from its own thread pool.
"""
from __future__ import annotations

import atexit
import json
import os
import queue
import select
import subprocess
import sys
import threading
import weakref
from pathlib import Path
from typing import IO, Any

_WORKER = Path(__file__).with_name("verify_worker.py")


class _Worker:
    def __init__(self) -> None:
        # -P: the worker's folder is not put on sys.path, so its sibling modules shadow nothing.
        self.proc = subprocess.Popen([sys.executable, "-P", str(_WORKER)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                     encoding="utf-8", bufsize=1)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin: IO[str] = self.proc.stdin
        self.stdout: IO[str] = self.proc.stdout

    def ask(self, request: dict[str, Any], deadline: float) -> dict[str, Any]:
        try:
            self.stdin.write(json.dumps(request) + "\n")
            self.stdin.flush()
        except (BrokenPipeError, OSError):
            return {"error": f"math-verify worker exited (code {self.proc.poll()})", "dead": True}
        ready, _, _ = select.select([self.stdout], [], [], deadline)
        if not ready:
            self.kill()
            return {"error": f"timeout: no verdict within {deadline:g}s (worker killed)", "dead": True}
        line = self.stdout.readline()
        if not line:
            return {"error": f"math-verify worker exited (code {self.proc.wait()})", "dead": True}
        return json.loads(line)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.stdin, self.stdout):
            try:
                stream.close()
            except OSError:
                pass


class VerifyPool:
    """Up to ``size`` workers, started on demand and reused; each request goes to an idle one."""

    def __init__(self, size: int = 2, deadline: float = 60.0) -> None:
        self.size, self.deadline = max(1, size), deadline
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _kill_all, self._all)

    def score(self, request: dict[str, Any]) -> dict[str, Any]:
        worker = self._acquire()
        reply = worker.ask(request, self.deadline)
        if reply.pop("dead", False) or not worker.alive():
            worker.kill()
            with self._lock:
                self._all.remove(worker)
            worker = _Worker()  # keep the pool at strength for the next request
            with self._lock:
                self._all.append(worker)
        self._idle.put(worker)
        return reply

    def _acquire(self) -> _Worker:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if len(self._all) < self.size:
                worker = _Worker()
                self._all.append(worker)
                return worker
        return self._idle.get()

    def close(self) -> None:
        self._finalizer()


def _kill_all(workers: list[_Worker]) -> None:
    for worker in list(workers):
        worker.kill()
    workers.clear()


_shared: dict[tuple[int, float], VerifyPool] = {}
_shared_lock = threading.Lock()


def shared_pool(size: int | None = None, deadline: float = 60.0) -> VerifyPool:
    """One pool per (size, deadline) for the whole process, so every metric instance reuses the workers."""
    size = size or min(4, os.cpu_count() or 1)
    with _shared_lock:
        pool = _shared.get((size, deadline))
        if pool is None:
            pool = _shared[(size, deadline)] = VerifyPool(size, deadline)
        return pool


atexit.register(lambda: [pool.close() for pool in list(_shared.values())])

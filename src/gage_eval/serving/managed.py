"""`ManagedServer`: start a model server subprocess, wait until it serves, and always stop it.

The server runs in its own process group (start_new_session), so stopping it reaches every process it
forked (vLLM and SGLang start workers): SIGTERM to the group, then SIGKILL after `stop_grace_s`. The stop
runs on every way out of the `async with` — normal end, an error, and cancellation, which is how the
engine turns Ctrl-C and SIGTERM into a stop. Two nets catch the rest: an atexit hook stops servers still
alive when the interpreter exits, and on Linux the server gets SIGTERM when gage itself dies (even by
SIGKILL) through PR_SET_PDEATHSIG.
"""
from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections import deque
from pathlib import Path
from typing import IO, Any

import aiohttp

from gage_eval.errors import GageError
from gage_eval.serving.launch import LaunchConfig, build_argv, model_path_problem
from gage_eval.serving.ports import free_port, port_in_use

log = logging.getLogger("gage_eval")
_LIVE: set[ManagedServer] = set()
_PR_SET_PDEATHSIG = 1


class ServerError(GageError):
    """A managed server could not be started or did not become ready (exit code 1: nothing was evaluated)."""

    exit_code = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop_all_at_exit() -> None:
    for server in list(_LIVE):
        server.stop()


atexit.register(_stop_all_at_exit)


def terminate_all() -> None:
    """SIGTERM every live server's process group without waiting: for an exit that skips the normal stop."""
    for server in list(_LIVE):
        if server.proc is not None:
            server._signal_group(server.proc, signal.SIGTERM)


def tail(path: Path, lines: int = 20) -> str:
    try:
        with path.open("r", errors="replace") as fh:
            return "".join(deque(fh, maxlen=lines)).rstrip()
    except OSError:
        return ""


class ManagedServer:
    def __init__(self, cfg: LaunchConfig, *, name: str, log_dir: Path, config_path: str = "launch") -> None:
        self.cfg = cfg
        self.name = cfg.name or name
        self.model_path = cfg.model_path
        self.config_path = config_path
        self.log_path = log_dir / f"server-{self.name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port: int | None = None
        self._log: IO[bytes] | None = None
        self._stopped = False

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.cfg.host in ("0.0.0.0", "") else self.cfg.host
        return f"http://{host}:{self.port}/v1"

    def _error(self, message: str, fix: str, with_log: bool = False) -> ServerError:
        if with_log:
            last = tail(self.log_path)
            message += f"; last lines of {self.log_path}:\n{last}" if last else f" (nothing in {self.log_path})"
        return ServerError(f"server '{self.name}': {message}", path=self.config_path, fix=fix)

    # ---- start --------------------------------------------------------------------------------------
    def start(self) -> None:
        cfg = self.cfg
        problem = model_path_problem(self.model_path)
        if problem:
            raise self._error(problem, "set launch.model_path (or --model-path / --model) to an existing "
                                       "checkpoint folder")
        if cfg.port == "auto":
            self.port = free_port(cfg.host)
        else:
            self.port = int(cfg.port)
            if port_in_use(cfg.host, self.port):
                raise self._error(f"port {self.port} on {cfg.host} is already in use",
                                  "stop what listens there, choose another launch.port, or use port: auto")
        argv = build_argv(cfg, str(self.model_path), self.port)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._log.write(f"$ {' '.join(argv)}\n".encode())
        self._log.flush()
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                                         env={**os.environ, **cfg.env}, start_new_session=True,
                                         preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        except OSError as exc:
            self._close_log()
            raise self._error(f"cannot start {argv[0]!r}: {exc.strerror or exc}",
                              f"install it (is {argv[0]} on PATH?), or use another preset or command") from None
        _LIVE.add(self)
        log.info("server %s started (pid %d): %s; log %s", self.name, self.proc.pid, " ".join(argv), self.log_path)

    async def wait_ready(self) -> None:
        """Poll /health, then /v1/models, until one answers 200; fail at once if the process exits."""
        assert self.proc is not None
        deadline = time.monotonic() + self.cfg.ready_timeout_s
        root = self.base_url[: -len("/v1")]
        timeout = aiohttp.ClientTimeout(total=2)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                code = self.proc.poll()
                if code is not None:
                    raise self._error(f"the server exited with code {code} before it was ready",
                                      "see the log lines above; check the command and model path", with_log=True)
                for path in ("/health", "/v1/models"):
                    with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError, OSError):
                        async with session.get(root + path) as resp:
                            if resp.status == 200:
                                log.info("server %s ready on %s", self.name, self.base_url)
                                return
                if time.monotonic() >= deadline:
                    raise self._error(f"not ready after {self.cfg.ready_timeout_s:g}s (no 200 from {root}/health "
                                      "or /v1/models)", "raise launch.ready_timeout_s if the model loads slowly, "
                                      "or check the log", with_log=True)
                await asyncio.sleep(0.2)

    # ---- stop ---------------------------------------------------------------------------------------
    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it after the grace period. Idempotent; never raises."""
        was_stopped = self._stopped
        proc, self._stopped = self.proc, True
        if proc is not None and not was_stopped:
            self._signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=self.cfg.stop_grace_s)
            except subprocess.TimeoutExpired:
                log.warning("server %s did not stop within %gs of SIGTERM: SIGKILL", self.name, self.cfg.stop_grace_s)
                self._signal_group(proc, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=5)
            # Workers that outlived the leader still share its group: take them down too.
            self._signal_group(proc, signal.SIGKILL)
            log.info("server %s stopped (pid %d, exit code %s)", self.name, proc.pid, proc.returncode)
        _LIVE.discard(self)
        self._close_log()

    @staticmethod
    def _signal_group(proc: subprocess.Popen[Any], sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    # ---- context manager ----------------------------------------------------------------------------
    async def __aenter__(self) -> ManagedServer:
        self.start()
        try:
            await self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop()

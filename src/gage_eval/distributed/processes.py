"""The shard protocol over pipes: `--workers N` without Ray, N child processes on this machine.

Each worker is `python -m gage_eval.distributed.proc_worker` speaking length-prefixed pickle frames on its
stdin/stdout (a trusted child of the same interpreter); its stderr goes to logs/worker-<i>.log. Workers
run in their own session, so a Ctrl-C at the terminal reaches only the driver, which stops them; and a
worker exits when its stdin closes, so even a SIGKILLed driver leaves no worker behind.
"""
from __future__ import annotations

import asyncio
import itertools
import os
import pickle
import signal
import struct
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from gage_eval.distributed.pool import WorkerHandle
from gage_eval.distributed.protocol import Batch, Hello, Shard, WorkerLost, WorkerReport, WorkerSetup, raise_error

_HEADER = struct.Struct(">I")
_STREAM_LIMIT = 1 << 20


def encode_frame(message: Any) -> bytes:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(body)) + body


async def read_frame(reader: asyncio.StreamReader) -> Any:
    """The next message; asyncio.IncompleteReadError at end of stream."""
    (size,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
    return pickle.loads(await reader.readexactly(size))


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "its pipe closed"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


class ProcessWorker(WorkerHandle):
    def __init__(self, index: int, proc: asyncio.subprocess.Process) -> None:
        self.index = index
        self.proc = proc
        self._calls = itertools.count()
        self._waiting: dict[int, asyncio.Queue] = {}  # call id -> replies
        self._reader = asyncio.ensure_future(self._read_replies())

    @classmethod
    async def spawn(cls, index: int, log_dir: Path, env_vars: dict[str, str] | None = None) -> ProcessWorker:
        log_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **env_vars} if env_vars else None
        with (log_dir / f"worker-{index}.log").open("ab") as log:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "gage_eval.distributed.proc_worker", stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=log, start_new_session=True, limit=_STREAM_LIMIT, env=env)
        return cls(index, proc)

    async def _read_replies(self) -> None:
        assert self.proc.stdout is not None
        try:
            while True:
                call, kind, body = await read_frame(self.proc.stdout)
                queue = self._waiting.get(call)
                if queue is not None:
                    queue.put_nowait((kind, body))
        except (asyncio.IncompleteReadError, ConnectionError, EOFError, pickle.UnpicklingError):
            pass
        code = await self.proc.wait()
        self.alive = False
        lost = WorkerLost(f"{self.label} {_exit_reason(code)}")
        for queue in self._waiting.values():
            queue.put_nowait(("lost", lost))

    async def _send(self, op: str, body: Any = None) -> asyncio.Queue:
        if not self.alive:
            raise WorkerLost(f"{self.label} {_exit_reason(self.proc.returncode)}")
        call = next(self._calls)
        queue: asyncio.Queue = asyncio.Queue()
        self._waiting[call] = queue
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(encode_frame((call, op, body)))
            await self.proc.stdin.drain()
        except (ConnectionError, RuntimeError) as exc:
            self._waiting.pop(call, None)
            raise WorkerLost(f"{self.label}: {exc}") from None
        queue.call_id = call  # type: ignore[attr-defined]
        return queue

    async def _reply(self, op: str, body: Any = None) -> Any:
        queue = await self._send(op, body)
        try:
            kind, value = await queue.get()
        finally:
            self._waiting.pop(queue.call_id, None)  # type: ignore[attr-defined]
        if kind == "lost":
            raise value
        if kind == "error":
            raise_error(value, self.label)
        return value

    async def hello(self) -> Hello:
        return await self._reply("hello")

    async def setup(self, setup: WorkerSetup) -> list[str]:
        return await self._reply("setup", setup)

    async def run_shard(self, shard: Shard) -> AsyncIterator[Batch]:
        queue = await self._send("shard", shard)
        try:
            while True:
                kind, value = await queue.get()
                if kind == "batch":
                    yield value
                elif kind == "end":
                    return
                elif kind == "lost":
                    raise value
                else:
                    raise_error(value, self.label)
        finally:
            self._waiting.pop(queue.call_id, None)  # type: ignore[attr-defined]

    async def close(self) -> WorkerReport | None:
        if not self.alive:
            return None
        return await self._reply("close")

    async def kill(self) -> None:
        if self.proc.returncode is None:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
        await self.proc.wait()
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)


def spawner(log_dir: Path, env_vars: dict[str, str] | None = None):
    """`env_vars`: execution.distributed.runtime_env.env_vars, as Ray would set them for its workers."""
    async def spawn(index: int) -> ProcessWorker:
        return await ProcessWorker.spawn(index, log_dir, env_vars)
    return spawn


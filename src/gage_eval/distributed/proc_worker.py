"""A `--workers N` worker process: the shard protocol on stdin/stdout (see processes.py).

    python -m gage_eval.distributed.proc_worker      # started by the driver, not by hand
"""
from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

from gage_eval.distributed.processes import encode_frame, read_frame
from gage_eval.distributed.protocol import error_info, hello


class _Worker:
    def __init__(self, out: asyncio.StreamWriter) -> None:
        self.out = out
        self.executor: Any = None
        self.tasks: set[asyncio.Task] = set()

    async def send(self, call: int, kind: str, body: Any) -> None:
        self.out.write(encode_frame((call, kind, body)))
        await self.out.drain()

    async def handle(self, call: int, op: str, body: Any) -> bool:
        """Serve one request; False once the driver said close."""
        try:
            if op == "hello":
                await self.send(call, "ok", hello())
            elif op == "setup":
                from gage_eval.distributed.executor import ShardExecutor

                self.executor = ShardExecutor(body)
                await self.send(call, "ok", await self.executor.start())
            elif op == "shard":
                async for batch in self.executor.run_shard(body):
                    await self.send(call, "batch", batch)
                await self.send(call, "end", None)
            elif op == "close":
                report = await self.executor.close() if self.executor is not None else None
                await self.send(call, "ok", report)
                return False
        except Exception as exc:  # noqa: BLE001 - the driver re-raises it, naming this worker
            await self.send(call, "error", error_info(exc))
        return True

    def spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


async def serve(protocol_out: int) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin,
                                                        os.fdopen(protocol_out, "wb"))
    worker = _Worker(asyncio.StreamWriter(transport, protocol, None, loop))
    while True:
        try:
            call, op, body = await read_frame(reader)
        except (asyncio.IncompleteReadError, ConnectionError):
            os._exit(0)  # the driver is gone (even SIGKILLed): stop at once, nobody reads our results
        if op in ("hello", "close"):
            if not await worker.handle(call, op, body):
                return
        else:  # setup and shards run concurrently with the next request
            worker.spawn(worker.handle(call, op, body))


def main() -> None:
    # Keep the protocol's stdout for frames alone: anything else printed lands in the worker's log.
    protocol_out = os.dup(1)
    os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver decides when a worker stops
    from gage_eval.engine import event_loop

    try:
        event_loop.run(serve(protocol_out))
    finally:
        sys.stderr.flush()
    os._exit(0)  # do not wait for executor threads of an abandoned run


if __name__ == "__main__":
    main()

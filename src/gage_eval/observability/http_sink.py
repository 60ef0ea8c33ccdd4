"""HTTP POST event sink with failover: events the endpoint cannot take are kept in a local file."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson


class HttpSink:
    """Batches events and POSTs them as a JSON array. Never blocks the run: when the queue is full or the
    endpoint is down, events go to `failover_path` (one JSON line each) for later replay."""

    def __init__(self, url: str, failover_path: Path, *, timeout_s: float = 2.0, batch_size: int = 100,
                 queue_size: int = 10_000, retry_down_after_s: float = 5.0) -> None:
        self.url = url
        self.failover_path = failover_path
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._batch_size = batch_size
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=queue_size)
        self._retry_down_after_s = retry_down_after_s
        self._down_until = 0.0
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self.sent = 0
        self.failed_over = 0

    def emit(self, event: dict[str, Any]) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._pump())
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self._failover([event])

    def _failover(self, events: list[dict[str, Any]]) -> None:
        self.failed_over += len(events)
        with self.failover_path.open("ab") as fh:
            for event in events:
                fh.write(orjson.dumps(event, default=str) + b"\n")

    async def _post(self, batch: list[dict[str, Any]]) -> None:
        if time.monotonic() < self._down_until:
            self._failover(batch)
            return
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.post(self.url, data=orjson.dumps(batch, default=str),
                                          headers={"Content-Type": "application/json"}) as resp:
                if resp.status >= 300:
                    raise aiohttp.ClientResponseError(resp.request_info, (), status=resp.status)
            self.sent += len(batch)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
            self._down_until = time.monotonic() + self._retry_down_after_s
            self._failover(batch)

    async def _pump(self) -> None:
        """Post batches until the None sentinel; a batch is either sent or failed over, never dropped."""
        closing = False
        while not closing:
            item = await self._queue.get()
            batch = [] if item is None else [item]
            closing = item is None
            while len(batch) < self._batch_size and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    closing = True
                    break
                batch.append(item)
            if batch:
                await self._post(batch)

    async def aclose(self) -> None:
        if self._task is not None:
            await self._queue.put(None)
            await self._task
        if self._session is not None:
            await self._session.close()

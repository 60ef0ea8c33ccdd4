"""Server-sent event streams of JSON objects, as OpenAI-compatible and native serving APIs send them."""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp

from gage_eval.backends.http_probe import decode_json
from gage_eval.errors import BackendConnectionError, BackendError, HTTPStatusError


def truncated_stream(url: str) -> BackendConnectionError:
    return BackendConnectionError(f"the stream from {url} ended before its last event (the server closed it "
                                  "mid-reply)", retryable=True, fix="the server failed while generating; check its logs")


async def sse_json(resp: aiohttp.ClientResponse, url: str, malformed: Callable[[str], BackendError], *,
                   done_marker: bool = True) -> AsyncIterator[dict[str, Any]]:
    """The JSON objects of a `data:` event stream up to `data: [DONE]`; an error event raises its HTTP class, a
    non-object event `malformed(problem)`. With `done_marker`, a stream that ends without `[DONE]` was cut short
    (a crashed server) and raises a retryable connection error."""
    async for line in resp.content:
        if not line.startswith(b"data:"):
            continue  # blank separators, comments, `event:` lines
        payload = line[5:].strip()
        if payload == b"[DONE]":
            return
        event = decode_json(payload)
        if not isinstance(event, dict):
            raise malformed(f"a stream event is not a JSON object: {payload[:120]!r}")
        if event.get("error"):
            detail = event["error"]
            detail = detail.get("message", detail) if isinstance(detail, dict) else detail
            raise HTTPStatusError(f"{url} failed mid-stream: {detail}", status=500, retryable=True,
                                  fix="the server failed while generating; check its logs")
        yield event
    if done_marker:
        raise truncated_stream(url)

"""OpenAI chat replies, whole or streamed, as GenerationResponses (text, tool calls, usage, finish reason).

A streamed reply sends tool calls in pieces: the first delta of a call carries its `index`, `id` and
function `name`, later deltas of the same `index` append to `function.arguments`. They are put together here
exactly as the OpenAI SDK does, then parsed once (backends/tool_calls.py).
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from gage_eval.backends.base import GenerationResponse
from gage_eval.backends.http_probe import decode_json
from gage_eval.backends.tool_calls import openai_tool_calls
from gage_eval.errors import BackendConnectionError, BackendError, HTTPStatusError, MalformedReply


def tool_fields(tools: list[dict[str, Any]] | None, tool_choice: Any) -> dict[str, Any]:
    """The request body fields for tools (none when the request has no tools)."""
    out: dict[str, Any] = {}
    if tools:
        out["tools"] = tools
    if tool_choice is not None and tools:
        out["tool_choice"] = tool_choice
    return out


def chat_response(data: dict[str, Any], choices: list[Any]) -> GenerationResponse:
    """A non-streamed chat completion; tool calls of the first choice."""
    texts = [((c or {}).get("message") or {}).get("content") or "" for c in choices]
    first = choices[0] if choices else {}
    calls = openai_tool_calls(((first or {}).get("message") or {}).get("tool_calls"))
    return GenerationResponse(text=texts[0] if texts else "", texts=texts, usage=data.get("usage") or {},
                              finish_reason=first.get("finish_reason"), logprobs=first.get("logprobs"),
                              prompt_format="chat_template", tool_calls=calls)


class StreamAccumulator:
    """Puts a chat completion stream back together: content per choice, tool-call fragments, usage."""

    def __init__(self) -> None:
        self.texts: dict[int, list[str]] = {}
        self.finish: dict[int, str | None] = {}
        self.calls: dict[int, dict[str, Any]] = {}  # tool-call index -> {"id", "name", "arguments": [pieces]}
        self.usage: dict[str, int] = {}
        self.logprobs: list[Any] = []

    def add(self, event: dict[str, Any]) -> None:
        if isinstance(event.get("usage"), dict):
            self.usage = event["usage"]
        for choice in event.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            index = int(choice.get("index") or 0)
            delta = choice.get("delta") or {}
            if delta.get("content"):
                self.texts.setdefault(index, []).append(delta["content"])
            else:
                self.texts.setdefault(index, [])
            if choice.get("finish_reason") is not None:
                self.finish[index] = choice["finish_reason"]
            lp = (choice.get("logprobs") or {}).get("content") if index == 0 else None
            if lp:
                self.logprobs.extend(lp)
            if index == 0:
                for piece in delta.get("tool_calls") or []:
                    self._add_call_piece(piece)

    def _add_call_piece(self, piece: dict[str, Any]) -> None:
        slot = self.calls.setdefault(int(piece.get("index") or 0), {"id": None, "name": "", "arguments": []})
        if piece.get("id"):
            slot["id"] = piece["id"]
        fn = piece.get("function") or {}
        if fn.get("name"):
            slot["name"] += fn["name"]  # servers send the name whole; appending tolerates one that splits it
        if fn.get("arguments"):
            slot["arguments"].append(fn["arguments"])

    def response(self) -> GenerationResponse:
        indexes = sorted(self.texts) or [0]
        texts = ["".join(self.texts.get(i, [])) for i in indexes]
        raw_calls = [{"id": c["id"], "function": {"name": c["name"], "arguments": "".join(c["arguments"])}}
                     for _, c in sorted(self.calls.items())]
        return GenerationResponse(text=texts[0], texts=texts, usage=self.usage, finish_reason=self.finish.get(0),
                                  logprobs={"content": self.logprobs} if self.logprobs else None,
                                  prompt_format="chat_template", tool_calls=openai_tool_calls(raw_calls))


async def sse_json(resp: aiohttp.ClientResponse, url: str) -> AsyncIterator[dict[str, Any]]:
    """The JSON objects of a `data:` event stream up to `data: [DONE]`; a stream cut before it raises a
    retryable connection error (a crashed server), an error event raises its HTTP class."""
    async for line in resp.content:
        if not line.startswith(b"data:"):
            continue  # blank separators, comments, `event:` lines
        payload = line[5:].strip()
        if payload == b"[DONE]":
            return
        event = decode_json(payload)
        if not isinstance(event, dict):
            raise MalformedReply(f"{url} sent a stream event that is not a JSON object: {payload[:120]!r}",
                                 status=200, fix="point base_url at an OpenAI-compatible server")
        if event.get("error"):
            detail = event["error"]
            detail = detail.get("message", detail) if isinstance(detail, dict) else detail
            raise HTTPStatusError(f"{url} failed mid-stream: {detail}", status=500, retryable=True,
                                  fix="the server failed while generating; check its logs")
        yield event
    raise BackendConnectionError(f"the stream from {url} ended before its last event (the server closed it "
                                 "mid-reply)", retryable=True, fix="the server failed while generating; check its logs")


async def read_stream(resp: aiohttp.ClientResponse, url: str) -> GenerationResponse:
    acc = StreamAccumulator()
    async for event in sse_json(resp, url):
        acc.add(event)
    if not acc.texts and not acc.calls:
        raise BackendError(f"{url} streamed no choice", retryable=True)
    return acc.response()

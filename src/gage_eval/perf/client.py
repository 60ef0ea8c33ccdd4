"""Timed requests: SSE parsed incrementally so every token chunk gets its own arrival time."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from gage_eval.perf.prompts import PerfRequest


@dataclass
class RequestRecord:
    level: int
    start: float  # seconds since the level began
    success: bool = False
    error: str | None = None
    ttft_s: float | None = None
    latency_s: float | None = None
    itl_s: list[float] = field(default_factory=list)
    output_tokens: int | None = None
    prompt_tokens: int | None = None
    token_source: str = "usage"  # usage | tokenizer | chunks
    text: str = ""

    def tpot_s(self) -> float | None:
        if not self.success or not self.output_tokens or self.output_tokens < 2 or self.ttft_s is None:
            return None
        return (self.latency_s - self.ttft_s) / (self.output_tokens - 1)  # vLLM: excludes the first token


@dataclass(frozen=True)
class PerfTarget:
    url: str
    model: str
    api: str  # openai-chat | openai-completions
    stream: bool
    max_tokens: int | None
    min_tokens: int | None
    extra_body: dict[str, Any]
    timeout_s: float


def _body(target: PerfTarget, request: PerfRequest) -> dict[str, Any]:
    body: dict[str, Any] = {"model": target.model, **target.extra_body}
    if target.api == "openai-chat":
        body["messages"] = request.messages
    else:
        body["prompt"] = request.prompt
    if target.max_tokens is not None:
        body["max_tokens"] = target.max_tokens
    if target.min_tokens is not None:
        body["min_tokens"] = target.min_tokens
        body["ignore_eos"] = True
    if target.stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def _delta_text(chunk: dict[str, Any], chat: bool) -> str:
    choices = chunk.get("choices") or []
    if not choices:
        return ""
    return ((choices[0].get("delta") or {}).get("content") or "") if chat else (choices[0].get("text") or "")


async def send(session: aiohttp.ClientSession, target: PerfTarget, request: PerfRequest, record: RequestRecord,
               t0: float) -> RequestRecord:
    chat = target.api == "openai-chat"
    start = time.perf_counter()
    record.start = start - t0
    record.prompt_tokens = request.prompt_tokens
    try:
        async with session.post(target.url, data=orjson.dumps(_body(target, request))) as resp:
            if resp.status != 200:
                text = (await resp.read())[:300].decode("utf-8", "replace")
                record.error = f"HTTP {resp.status}: {text}"
                return record
            if not target.stream:
                data = orjson.loads(await resp.read())
                record.latency_s = record.ttft_s = time.perf_counter() - start
                choice = data["choices"][0]
                record.text = (choice.get("message") or {}).get("content") or "" if chat else choice.get("text") or ""
                _usage(record, data.get("usage"))
            else:
                await _read_stream(resp, record, start, chat)
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        record.error = f"{type(exc).__name__}: {exc}" or type(exc).__name__
        return record
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError) as exc:
        record.error = f"malformed reply: {type(exc).__name__}: {exc}"
        return record
    if record.error is None:
        record.success = True
    return record


def _usage(record: RequestRecord, usage: dict[str, Any] | None) -> None:
    if usage:
        record.output_tokens = usage.get("completion_tokens")
        if usage.get("prompt_tokens") is not None:
            record.prompt_tokens = usage["prompt_tokens"]
        record.token_source = "usage"


async def _read_stream(resp: aiohttp.ClientResponse, record: RequestRecord, start: float, chat: bool) -> None:
    last: float | None = None
    chunks = 0
    done = False
    parts: list[str] = []
    cut = ""
    buffer = b""
    try:
        # Raw reads rather than readline(): one await per network read keeps the client's own cost per
        # token low, so the arrival time stamped here is the time the bytes reached us.
        async for data in resp.content.iter_any():
            now = time.perf_counter()
            buffer += data
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                line = line.strip()
                if not line.startswith(b"data:"):
                    continue
                payload = line[5:].strip()
                if payload == b"[DONE]":
                    done = True
                    break
                chunk = orjson.loads(payload)
                if chunk.get("usage"):
                    _usage(record, chunk["usage"])
                text = _delta_text(chunk, chat)
                if not text:
                    continue
                if last is None:
                    record.ttft_s = now - start
                else:
                    record.itl_s.append(now - last)
                last = now
                chunks += 1
                parts.append(text)
            if done:
                break
    except aiohttp.ClientPayloadError:
        cut = " (connection closed mid-stream)"
    record.latency_s = time.perf_counter() - start
    record.text = "".join(parts)
    if not done:
        record.error = "stream closed before [DONE]" + cut
    elif record.ttft_s is None:
        record.error = "stream carried no tokens"
    if record.output_tokens is None:
        record.output_tokens, record.token_source = chunks, "chunks"

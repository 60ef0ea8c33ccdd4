"""Tool-call answers of the test server, in OpenAI's wire format (whole replies and SSE streams).

A script (TestServerConfig.script) answers a chat request with tool calls by returning a dict:

    {"content": "optional text", "tool_calls": [call("add", {"a": 1}), call("bad", "{not json")]}

Arguments given as a dict are sent as JSON text; a string is sent as is (so tests can send arguments that
do not parse). `agent_script(turns)` is a ready-made policy: call the first offered tool `turns` times,
then answer in text.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import orjson

ToolAnswer = dict[str, Any]


def call(name: str, arguments: dict[str, Any] | str | None = None, call_id: str | None = None) -> dict[str, Any]:
    return {"name": name, "arguments": {} if arguments is None else arguments, "id": call_id}


def reply(*calls: dict[str, Any], content: str | None = None) -> ToolAnswer:
    return {"content": content, "tool_calls": list(calls)}


def _wire_calls(answer: ToolAnswer, request_no: int) -> list[dict[str, Any]]:
    out = []
    for i, c in enumerate(answer.get("tool_calls") or []):
        args = c.get("arguments")
        text = args if isinstance(args, str) else json.dumps(args if args is not None else {})
        out.append({"id": c.get("id") or f"call_{request_no}_{i}", "type": "function",
                    "function": {"name": c["name"], "arguments": text}})
    return out


def _usage(prompt: str, answer: ToolAnswer, calls: list[dict[str, Any]]) -> dict[str, int]:
    completion = len((answer.get("content") or "").split()) + sum(
        1 + len(c["function"]["arguments"].split()) for c in calls)
    p = len(prompt.split())
    return {"prompt_tokens": p, "completion_tokens": completion, "total_tokens": p + completion}


def completion_body(body: dict[str, Any], answer: ToolAnswer, prompt: str, request_no: int) -> bytes:
    calls = _wire_calls(answer, request_no)
    message: dict[str, Any] = {"role": "assistant", "content": answer.get("content")}
    if calls:
        message["tool_calls"] = calls
    return orjson.dumps({"id": f"chatcmpl-{request_no}", "object": "chat.completion", "created": int(time.time()),
                         "model": body.get("model", "test-model"),
                         "choices": [{"index": 0, "message": message,
                                      "finish_reason": "tool_calls" if calls else "stop"}],
                         "usage": _usage(prompt, answer, calls)})


def stream_events(body: dict[str, Any], answer: ToolAnswer, prompt: str, request_no: int) -> Iterator[bytes]:
    """SSE events as OpenAI sends them: the text in pieces, each call's id and name first, then its arguments
    in several pieces; finish_reason tool_calls; usage last when asked for."""
    ident, model, created = f"chatcmpl-{request_no}", body.get("model", "test-model"), int(time.time())
    calls = _wire_calls(answer, request_no)

    def event(delta: dict[str, Any], finish: str | None = None) -> bytes:
        data = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return b"data: " + orjson.dumps(data) + b"\n\n"

    yield event({"role": "assistant", "content": ""})
    words = (answer.get("content") or "").split(" ")
    for i, word in enumerate(w for w in words if answer.get("content")):
        yield event({"content": word if i == 0 else " " + word})
    for index, c in enumerate(calls):
        yield event({"tool_calls": [{"index": index, "id": c["id"], "type": "function",
                                     "function": {"name": c["function"]["name"], "arguments": ""}}]})
        text = c["function"]["arguments"]
        step = max(1, len(text) // 3)
        for start in range(0, len(text), step):
            yield event({"tool_calls": [{"index": index, "function": {"arguments": text[start:start + step]}}]})
    yield event({}, "tool_calls" if calls else "stop")
    if (body.get("stream_options") or {}).get("include_usage"):
        yield b"data: " + orjson.dumps({"id": ident, "object": "chat.completion.chunk", "model": model, "choices": [],
                                        "usage": _usage(prompt, answer, calls)}) + b"\n\n"
    yield b"data: [DONE]\n\n"


def _example(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if "enum" in schema and schema["enum"]:
        return schema["enum"][0]
    return {"integer": 1, "number": 1.5, "boolean": True, "array": [], "object": {}}.get(str(kind), "x")


def example_arguments(tool: dict[str, Any]) -> dict[str, Any]:
    """Arguments for every required parameter of an OpenAI tool definition (a typed placeholder each)."""
    params = (tool.get("function") or {}).get("parameters") or {}
    props = params.get("properties") or {}
    return {name: _example(props.get(name) or {}) for name in params.get("required") or []}


def agent_script(turns: int, final: str = "done") -> Callable[[dict[str, Any]], Any]:
    """Call the request's first tool until the conversation holds `turns` tool results, then answer
    `final` (plain text, what a model's final answer looks like)."""

    def script(body: dict[str, Any]) -> Any:
        messages = body.get("messages") or []
        done = sum(1 for m in messages if m.get("role") == "tool")
        tools = body.get("tools") or []
        if not tools or done >= turns:
            return f"{final} after {done} tool calls"
        return reply(call(tools[0]["function"]["name"], example_arguments(tools[0])))

    return script

"""Tool calls as every backend reports them: `{"id", "name", "arguments", "raw_arguments", "error"}`.

A model's arguments are text; they become a dict only when they parse as a JSON object. When they do not,
the call is still reported (the agent loop answers it with the error, and the trajectory keeps the raw text),
never dropped or silently repaired.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

import orjson


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


def tool_call(name: str, arguments: str | dict[str, Any] | None, call_id: str | None = None) -> dict[str, Any]:
    """One tool call; `arguments` is the model's text (parsed here) or an already-decoded object."""
    if isinstance(arguments, dict):
        return {"id": call_id or new_call_id(), "name": name, "arguments": arguments,
                "raw_arguments": json.dumps(arguments, ensure_ascii=False), "error": None}
    raw = arguments if isinstance(arguments, str) else ("" if arguments is None else json.dumps(arguments))
    parsed: Any = None
    error: str | None = None
    if raw.strip() == "":
        parsed = {}  # OpenAI servers send "" (or nothing) for a call without arguments
    else:
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            error = f"arguments are not valid JSON: {exc}"
        else:
            if not isinstance(parsed, dict):
                error = f"arguments must be a JSON object, got {type(parsed).__name__}"
                parsed = None
    if not name:
        error = error or "tool call without a function name"
    return {"id": call_id or new_call_id(), "name": name, "arguments": parsed if error is None else None,
            "raw_arguments": raw, "error": error}


def openai_tool_calls(raw_calls: Any) -> list[dict[str, Any]]:
    """Tool calls from an OpenAI chat `message.tool_calls` list (malformed entries kept with an error)."""
    out: list[dict[str, Any]] = []
    for item in raw_calls or []:
        if not isinstance(item, dict):
            continue
        fn = item.get("function") if isinstance(item.get("function"), dict) else {}
        out.append(tool_call(str(fn.get("name") or ""), fn.get("arguments"), item.get("id") or None))
    return out


def assistant_message(text: str, calls: list[dict[str, Any]]) -> dict[str, Any]:
    """The assistant turn to send back to the model in OpenAI format (arguments as the model wrote them)."""
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = [{"id": c["id"], "type": "function",
                                  "function": {"name": c["name"], "arguments": c["raw_arguments"]}} for c in calls]
    elif not text:
        message["content"] = ""
    return message


def tool_message(call_id: str, content: str, name: str | None = None) -> dict[str, Any]:
    message = {"role": "tool", "tool_call_id": call_id, "content": content}
    if name:
        message["name"] = name
    return message

"""Tool calls written in a model's text, as local backends (hf, vllm) and prompt-mode agents read them.

Two families cover most open chat templates:

- Hermes / Qwen 2.5+ / Qwen 3: `<tool_call>\\n{"name": "f", "arguments": {...}}\\n</tool_call>`, one block per
  call (a last block left open when generation stopped at end-of-turn is accepted);
- Llama 3.1 / 3.2 JSON tool calling: the whole reply is `{"name": "f", "parameters": {...}}` (optionally after
  `<|python_tag|>`), several calls separated by `;` or new lines.

A call whose JSON does not parse is still returned — with its raw text and an error — never dropped.
"""
from __future__ import annotations

import re
from typing import Any, Literal

import orjson

from gage_eval.backends.tool_calls import tool_call

Style = Literal["auto", "hermes", "llama3_json", "none"]
_HERMES = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL)
_NAME = re.compile(r'"name"\s*:\s*"([^"]+)"')
_PYTHON_TAG = "<|python_tag|>"


def _from_object(obj: Any, raw: str) -> dict[str, Any]:
    if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
        return tool_call("", raw) | {"error": "a tool call must be a JSON object with a string 'name'",
                                     "arguments": None}
    args = obj.get("arguments", obj.get("parameters", {}))
    return tool_call(obj["name"], args if isinstance(args, (dict, str)) else orjson.dumps(args).decode())


def _from_text(raw: str) -> dict[str, Any]:
    try:
        return _from_object(orjson.loads(raw), raw)
    except orjson.JSONDecodeError as exc:
        name = _NAME.search(raw)
        call = tool_call(name.group(1) if name else "", raw)
        call["arguments"], call["error"] = None, f"the tool call is not valid JSON: {exc}"
        return call


def parse_hermes(text: str) -> tuple[str, list[dict[str, Any]]]:
    blocks = [m.group(1).strip() for m in _HERMES.finditer(text)]
    if not blocks:
        return text, []
    content = _HERMES.sub("", text).strip()
    return content, [_from_text(b) for b in blocks if b]


def _json_objects(text: str) -> list[str] | None:
    """`text` split into top-level JSON objects (separated by `;`, commas or white space), or None."""
    out, depth, start, in_str, escape = [], 0, -1, False, False
    for i, ch in enumerate(text):
        if in_str:
            escape = not escape and ch == "\\"
            if ch == '"' and not escape:
                in_str = False
            continue
        if ch == '"':
            in_str = True
        elif ch == "{":
            depth += 1
            if depth == 1:
                start = i
        elif ch == "}":
            depth -= 1
            if depth == 0:
                out.append(text[start:i + 1])
            elif depth < 0:
                return None
        elif depth == 0 and not ch.isspace() and ch not in ";,":
            return None  # prose outside the objects: not a JSON tool-call reply
    if depth != 0:
        out.append(text[start:])  # cut off mid-object: returned with its parse error
    return out or None


def parse_llama_json(text: str) -> tuple[str, list[dict[str, Any]]]:
    body = text.strip()
    if body.startswith(_PYTHON_TAG):
        body = body[len(_PYTHON_TAG):].strip()
    if not body.startswith("{"):
        return text, []
    objects = _json_objects(body)
    if not objects:
        return text, []
    calls = [_from_text(o) for o in objects]
    if not any(c["name"] for c in calls):
        return text, []  # a JSON answer, not a tool call
    return "", calls


def parse_tool_text(text: str, style: Style = "auto") -> tuple[str, list[dict[str, Any]]]:
    """(the text without its tool calls, the calls)."""
    if style == "none" or not text:
        return text, []
    if style == "hermes" or (style == "auto" and "<tool_call>" in text):
        return parse_hermes(text)
    if style in ("llama3_json", "auto"):
        return parse_llama_json(text)
    return text, []

"""Normalize the four metric config forms of spec §4.5.3 into one full-object dict."""
from __future__ import annotations

import ast
import re
from typing import Any

_CALL = re.compile(r"^\s*([A-Za-z_][\w.:]*)\s*\((.*)\)\s*$", re.S)
_LITERALS = {"true": True, "false": False, "null": None, "none": None}


def _parse_scalar(text: str) -> Any:
    text = text.strip()
    if text.lower() in _LITERALS:
        return _LITERALS[text.lower()]
    try:
        return ast.literal_eval(text)  # numbers and quoted strings
    except (ValueError, SyntaxError):
        return text  # bare word


def _split_args(body: str) -> list[str]:
    """Split on commas outside quotes."""
    parts, buf, quote = [], [], ""
    for ch in body:
        if quote:
            buf.append(ch)
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            buf.append(ch)
        elif ch == ",":
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    if "".join(buf).strip():
        parts.append("".join(buf))
    return parts


def parse_function_shorthand(text: str) -> dict[str, Any]:
    match = _CALL.match(text)
    if not match:
        raise ValueError(f"'{text}' is not of the form name(k=v, ...)")
    name, body = match.groups()
    params: dict[str, Any] = {}
    for arg in _split_args(body):
        key, sep, value = arg.partition("=")
        if not sep or not key.strip().isidentifier():
            raise ValueError(f"argument '{arg.strip()}' in '{text}' is not a flat k=v pair")
        params[key.strip()] = _parse_scalar(value)
    return _with_aggregation({"metric_id": name, "implementation": name, "params": params})


def _with_aggregation(entry: dict[str, Any]) -> dict[str, Any]:
    params = dict(entry.get("params") or {})
    if "aggregation" in params:
        entry["aggregation"] = params.pop("aggregation")
    entry["params"] = params
    return entry


def normalize_metric_entry(entry: Any) -> Any:
    """Return a full-object dict; anything unrecognised is passed through for pydantic to reject."""
    if isinstance(entry, str):
        if "(" in entry:
            return parse_function_shorthand(entry)
        return {"metric_id": entry, "implementation": entry, "params": {}}
    if isinstance(entry, dict):
        if "metric_id" in entry or "implementation" in entry:
            entry = dict(entry)
            entry.setdefault("implementation", entry.get("metric_id"))
            entry.setdefault("metric_id", entry.get("implementation"))
            return entry
        if len(entry) == 1:
            (name, params), = entry.items()
            if params is None or isinstance(params, dict):
                return _with_aggregation({"metric_id": name, "implementation": name, "params": params or {}})
    return entry

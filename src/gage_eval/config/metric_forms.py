"""Normalize the four metric config forms of spec §4.5.3 into one full-object dict.

    - exact_match                                     string shorthand
    - regex_match: {pattern: "^A$"}                   KV shorthand
    - exact_match(case_sensitive=true, aggregation=median)   function shorthand (flat k=v only)
    - {metric_id: em_cs, implementation: exact_match, params: {...}}   full object

In the shorthands `aggregation` is taken out of the params into the metric's aggregation.
"""
from __future__ import annotations

import ast
import re
from typing import Any

from pydantic_core import PydanticCustomError

_CALL = re.compile(r"^\s*([A-Za-z_][\w.:]*)\s*\((.*)\)\s*$", re.DOTALL)
_LITERALS = {"true": True, "false": False, "null": None, "none": None}
_FULL_KEYS = {"metric_id", "implementation", "params", "aggregation"}
_SHORTHAND_FIX = ("write name(k=v, ...) with flat k=v pairs (values: numbers, true/false/null, quoted strings), "
                  "or use the full form {metric_id, implementation, params}")


def _error(message: str, fix: str = _SHORTHAND_FIX) -> PydanticCustomError:
    # A ValueError subclass; the fix travels in ctx to the ConfigError.
    return PydanticCustomError("metric_form", "{reason}", {"reason": message, "fix": fix})


def _parse_scalar(text: str) -> Any:
    text = text.strip()
    if text.lower() in _LITERALS:
        return _LITERALS[text.lower()]
    try:
        value = ast.literal_eval(text)  # numbers and quoted strings
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text  # bare word
    return value if isinstance(value, (int, float, str, bool)) or value is None else text


def _split_args(body: str, text: str) -> list[str]:
    """Split on commas outside quotes (a backslash escapes the next character inside quotes)."""
    parts, buf, quote, escaped = [], [], "", False
    for ch in body:
        buf.append(ch)
        if escaped:
            escaped = False
        elif quote:
            if ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == ",":
            parts.append("".join(buf[:-1]))
            buf = []
    if quote:
        raise _error(f"unterminated {quote} quote in '{text}'")
    if "".join(buf).strip():
        parts.append("".join(buf))
    return parts


def parse_function_shorthand(text: str) -> dict[str, Any]:
    match = _CALL.match(text)
    if not match:
        raise _error(f"'{text}' is not of the form name(k=v, ...)")
    name, body = match.groups()
    params: dict[str, Any] = {}
    for arg in _split_args(body, text):
        key, sep, value = arg.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise _error(f"argument '{arg.strip()}' in '{text}' is not a flat k=v pair")
        if not value.strip():
            raise _error(f"argument '{key}' in '{text}' has no value", fix="give a value, e.g. {key}=\"\" for an "
                         "empty string, or drop the argument".replace("{key}", key))
        if key in params:
            raise _error(f"argument '{key}' is given twice in '{text}'", fix="keep one of them")
        params[key] = _parse_scalar(value)
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
        if not entry.strip():
            raise _error("empty metric name", fix="name a metric, e.g. exact_match (`gage list metrics`)")
        if "(" in entry or ")" in entry:
            return parse_function_shorthand(entry)
        return {"metric_id": entry.strip(), "implementation": entry.strip(), "params": {}}
    if isinstance(entry, dict):
        if _FULL_KEYS & entry.keys():
            entry = dict(entry)
            for key, other in (("implementation", "metric_id"), ("metric_id", "implementation")):
                if entry.get(other) is not None:
                    entry.setdefault(key, entry[other])
            return entry
        if len(entry) == 1:
            (name, params), = entry.items()
            if params is None or isinstance(params, dict):
                return _with_aggregation({"metric_id": str(name), "implementation": str(name),
                                          "params": params or {}})
            raise _error(f"the params of metric '{name}' must be a mapping (got {params!r:.60})",
                         fix=f"write `- {name}: {{key: value}}`, or `- {name}` for no params")
    return entry

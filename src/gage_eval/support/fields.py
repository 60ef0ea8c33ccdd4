"""Dotted field paths into raw records: ``question``, ``choices.text``, ``turns.0`` (a list index)."""
from __future__ import annotations

import re
from typing import Any

_PATH = re.compile(r"^[A-Za-z_][\w-]*(\.(\d+|[A-Za-z_][\w-]*))*$")
MISSING = object()


def valid_path(path: str) -> bool:
    return bool(_PATH.match(path))


def get_path(record: Any, path: str, default: Any = MISSING) -> Any:
    value = record
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, (list, tuple)) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return default
    return value


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "media" if "_media" in value else "object"
    return type(value).__name__


def flatten_paths(record: dict[str, Any], depth: int = 2) -> dict[str, Any]:
    """Every field and (to `depth`) nested object key as a dotted path; lists of objects count their first item
    (``turns.0.content``) so chat-shaped columns can be mapped too."""
    out: dict[str, Any] = {}

    def walk(value: Any, prefix: str, level: int) -> None:
        out[prefix] = value
        if level >= depth:
            return
        if isinstance(value, dict) and "_media" not in value:
            for key, sub in value.items():
                walk(sub, f"{prefix}.{key}", level + 1)
        elif isinstance(value, list) and value and isinstance(value[0], (dict, list)):
            walk(value[0], f"{prefix}.0", level + 1)

    for key, value in record.items():
        walk(value, str(key), 0)
    return out

"""Read config files and turn schema failures into short errors that name the file and the path."""
from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from gage_eval.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith(("function-", "lambda")):
            continue  # pydantic validator frames, not config keys
        else:
            out += f".{part}" if out else str(part)
    return out


_FIXES = {
    "extra_forbidden": "remove the field or check its spelling against `gage schema`",
    "missing": "add the required field",
    "literal_error": "use one of the allowed values",
}


def validation_to_config_error(exc: ValidationError, file: str | None) -> ConfigError:
    errors = exc.errors(include_url=False)
    first = errors[0]
    path = format_loc(first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] not in ("missing", "extra_forbidden") and "input" in first:
        message += f" (got {first['input']!r:.80})"
    if len(errors) > 1:
        others = "; ".join(f"{format_loc(e['loc'])}: {e['msg'].removeprefix('Value error, ')}" for e in errors[1:4])
        message += f" [and {len(errors) - 1} more: {others}]"
    return ConfigError(message, file=file, path=path or None,
                       fix=_FIXES.get(first["type"], "correct the value; `gage schema` shows the expected types"))


def read_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError("config file not found", file=str(path), fix="check the path passed to --config")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"YAML syntax error: {problem}", file=str(path), path=where,
                          fix="fix the YAML syntax (indentation, colons, quotes) at that position") from None
    if not isinstance(data, dict):
        raise ConfigError("the top level must be a mapping", file=str(path),
                          fix="start the file with keys such as 'kind:' and 'datasets:'")
    return data


def parse_model(model: type[M], data: dict[str, Any], file: str | None = None) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_to_config_error(exc, file) from None

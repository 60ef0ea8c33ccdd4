"""Read config files and turn schema failures into short errors that name the file and the path."""
from __future__ import annotations

import re
import types
from pathlib import Path
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import AliasChoices, BaseModel, ValidationError
from pydantic.fields import FieldInfo

from gage_eval.errors import ConfigError, close_match_hint

M = TypeVar("M", bound=BaseModel)


# --- YAML -------------------------------------------------------------------------------------------------

class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys: YAML would otherwise silently keep only the last one."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in seen
        except TypeError:  # unhashable key: construct_mapping reports it
            continue
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}' (first defined on line {seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError("config file not found", file=str(path), fix="check the path passed to --config")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except UnicodeDecodeError:
        raise ConfigError("the file is not UTF-8 text", file=str(path), fix="pass a YAML config file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror or exc}", file=str(path),
                          fix="check the file's permissions") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if problem.startswith("duplicate key"):
            raise ConfigError(problem, file=str(path), path=where,
                              fix="keep one of them: YAML would silently drop all but the last") from None
        context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and context_mark and mark and context_mark.line != mark.line:
            problem += f" ({context} that starts on line {context_mark.line + 1})"
        fix = ("indent with spaces: YAML does not allow tabs" if "'\\t'" in problem else
               "fix the YAML syntax (indentation, colons, quotes, brackets) at that position")
        raise ConfigError(f"YAML syntax error: {problem}", file=str(path), path=where, fix=fix) from None
    if not isinstance(data, dict):
        raise ConfigError("the top level must be a mapping", file=str(path),
                          fix="start the file with keys such as 'kind:' and 'datasets:'")
    return data


# --- pydantic errors -> ConfigError -----------------------------------------------------------------------

def _unwrap(tp: Any) -> Any:
    """Strip Annotated[...] and Optional[...] so the walk sees the real container or model."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType) and len(args := [a for a in get_args(tp) if a is not type(None)]) == 1:
            tp = args[0]
        else:
            return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _field_keys(name: str, info: FieldInfo) -> list[str]:
    keys = [name]
    if info.alias:
        keys.append(info.alias)
    if isinstance(info.validation_alias, AliasChoices):
        keys += [c for c in info.validation_alias.choices if isinstance(c, str)]
    elif isinstance(info.validation_alias, str):
        keys.append(info.validation_alias)
    return keys


def _find_field(model: type[BaseModel], key: str) -> FieldInfo | None:
    return next((f for n, f in model.model_fields.items() if key in _field_keys(n, f)), None)


def _clean_loc(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> tuple[list[str | int], type[BaseModel] | None]:
    """Walk `loc` through the model's annotations, keeping config keys and list indices and dropping
    pydantic's union-member and validator tags (`str`, `dict[str,any]`, `function-after[...]`).

    Returns the kept parts and the model that owns the last key (for "known fields" hints)."""
    tp: Any = model if model is not None else Any
    parts: list[str | int] = []
    owner: type[BaseModel] | None = None
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(part, int):
            parts.append(part)
            args = get_args(tp)
            tp = args[0] if get_origin(tp) in (list, tuple) and args else Any
            owner = None
        elif str(part).startswith(("function-", "lambda")):
            continue
        elif _is_model(tp):
            parts.append(part)
            owner, info = tp, _find_field(tp, str(part))
            tp = info.annotation if info is not None else Any
        elif get_origin(tp) is dict or tp is dict or tp is Any:
            parts.append(part)
            args = get_args(tp)
            tp = args[1] if len(args) == 2 else Any
            owner = None
        else:  # a tag naming one member of a union: not part of the config
            tp = Any
    return parts, owner


def format_loc(loc: tuple[Any, ...] | list[Any], model: type[BaseModel] | None = None) -> str:
    parts = _clean_loc(model, tuple(loc))[0] if model is not None else [
        p for p in loc if not str(p).startswith(("function-", "lambda"))]
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _known_keys(model: type[BaseModel]) -> list[str]:
    # Field names as users write them: `schema_` is written `schema`.
    return [f.alias if name.endswith("_") and f.alias else name for name, f in model.model_fields.items()]


_DEFAULT_FIX = "correct the value; `gage schema` shows the expected types"


def _message(error: dict[str, Any]) -> str:
    return error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _shown_input(error: dict[str, Any], message: str) -> str:
    if error["type"] in ("missing", "extra_forbidden") or "input" not in error:
        return ""
    value = error["input"]
    if isinstance(value, (dict, list)):  # whole sections are noise; the path already points at them
        return ""
    text = repr(value)
    if text in message or (isinstance(value, str) and value in message):
        return ""
    return f" (got {text[:77] + '...' if len(text) > 80 else text})"


def validation_to_config_error(exc: ValidationError, file: str | None, model: type[BaseModel] | None = None,
                               prefix: str | None = None, note: str | None = None) -> ConfigError:
    """The first problem as a ConfigError: config path, bad value, and a fix (close matches where known).

    `model` lets the path skip pydantic's internal tags and lets unknown fields list the known ones;
    `prefix` is prepended to the path (e.g. ``definition`` for a template); `note` is appended."""
    errors = exc.errors(include_url=False)
    paths = [format_loc(e["loc"], model) for e in errors]
    first, path = errors[0], paths[0]
    same = [e for e, p in zip(errors, paths) if p == path]
    kind = first["type"]
    fix = (first.get("ctx") or {}).get("fix") or _DEFAULT_FIX

    if kind == "extra_forbidden":
        field = str(first["loc"][-1])
        message = f"unknown field '{field}'"
        owner = _clean_loc(model, tuple(first["loc"]))[1] if model is not None else None
        fix = (close_match_hint(field, _known_keys(owner), label="known fields") if owner is not None
               else "remove the field or check its spelling against `gage schema`")
    elif kind == "missing":
        message, fix = f"missing required field '{first['loc'][-1]}'", "add the required field"
    elif kind == "literal_error":
        expected = re.findall(r"'([^']*)'", (first.get("ctx") or {}).get("expected", ""))
        message = f"invalid value {first.get('input')!r}"
        fix = close_match_hint(str(first.get("input")), expected, label="allowed values") if expected else fix
    elif len(same) > 1 and all(_message(e).startswith("Input should be ") for e in same):
        # A union: "Input should be a valid string or a valid dictionary".
        message = "Input should be " + " or ".join(_message(e).removeprefix("Input should be ") for e in same)
    else:
        message = _message(first)
    message += _shown_input(first, message)
    others = [(p, e) for p, e in zip(paths, errors) if p != path]
    if others:
        listed = "; ".join(f"{p or '(top level)'}: {_message(e)}" for p, e in others[:3])
        message += f" [and {len(others)} more: {listed}]"
    if note:
        message += f" ({note})"
    return ConfigError(message, file=file, path=".".join(filter(None, (prefix, path))) or None, fix=fix)


def parse_model(model: type[M], data: dict[str, Any], file: str | None = None, *, prefix: str | None = None,
                note: str | None = None) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_to_config_error(exc, file, model, prefix, note) from None

"""Python functions as tools (registry kind `tools`), their JSON Schema taken from the signature by pydantic.

    @registry.asset("tools", "add", desc="add two integers")
    def add(a: int, b: int = 0) -> int:
        '''Add two integers.'''
        return a + b

The description is the docstring's first paragraph; `Annotated[int, Field(description=...)]` documents a
parameter. Two parameter names are injected, never shown to the model: `state` (a dict that lives as long
as the sample's tools, for stateful tool sets), `sandbox` (the sample's sandbox session, see
sandbox_profiles.py) and `workspace` (the sample's writable copy of a source tree, see workspace.py). Sync functions run in a worker thread; a sync function that hangs past the timeout
cannot be stopped from outside and keeps its thread (write long-running tools as `async def`).
"""
from __future__ import annotations

import asyncio
import inspect
import typing
from collections.abc import Callable
from typing import Any

from pydantic import ConfigDict, ValidationError, create_model

from gage_eval.agents.tools import ToolOutcome, ToolSpec, as_text
from gage_eval.errors import ConfigError

INJECTED = ("state", "sandbox", "workspace")


def _description(fn: Callable[..., Any]) -> str:
    doc = inspect.getdoc(fn) or ""
    return doc.split("\n\n", 1)[0].strip()


def _schema(fn: Callable[..., Any], name: str) -> tuple[type, dict[str, Any]]:
    fields: dict[str, Any] = {}
    try:  # string annotations (`from __future__ import annotations`) resolved in the function's module
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception as exc:  # noqa: BLE001 - a name the annotation uses is not importable
        raise ConfigError(f"tool '{name}': cannot resolve its type annotations: {exc}", path="tools",
                          fix="import the types the annotations name in the tool's module") from None
    for pname, param in inspect.signature(fn).parameters.items():
        if pname in INJECTED or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        annotation = hints.get(pname, Any)
        fields[pname] = (annotation, ... if param.default is inspect.Parameter.empty else param.default)
    model = create_model(f"{name}_arguments", __config__=ConfigDict(extra="forbid"), **fields)
    schema = model.model_json_schema()
    schema.pop("title", None)
    for prop in (schema.get("properties") or {}).values():
        prop.pop("title", None)
    schema.setdefault("properties", {})
    return model, schema


class PythonTool:
    def __init__(self, name: str, fn: Callable[..., Any], description: str | None = None,
                 state: dict[str, Any] | None = None, sandbox: Any = None, workspace: Any = None) -> None:
        if not callable(fn):
            raise ConfigError(f"tool '{name}' is not a function", path="tools", fix="register a function")
        self.fn = fn
        self.model, schema = _schema(fn, name)
        self.spec = ToolSpec(name, description or _description(fn), schema, f"python:{name}")
        params = inspect.signature(fn).parameters
        self.injected = {k: v for k, v in (("state", state if state is not None else {}), ("sandbox", sandbox),
                                           ("workspace", workspace)) if k in params}
        self.is_async = inspect.iscoroutinefunction(fn)

    async def call(self, arguments: dict[str, Any]) -> ToolOutcome:
        try:
            parsed = self.model.model_validate(arguments)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(arguments)'}: {e['msg']}" for e in exc.errors())
            return ToolOutcome(f"Error: invalid arguments for '{self.spec.name}': {problems}", True, "bad_arguments")
        kwargs = {k: getattr(parsed, k) for k in type(parsed).model_fields} | self.injected
        if self.is_async:
            value = await self.fn(**kwargs)
        else:
            value = await asyncio.to_thread(self.fn, **kwargs)
        return ToolOutcome(as_text(value))


def python_tools(names: list[str], path: str, state: dict[str, Any] | None = None, sandbox: Any = None,
                 workspace: Any = None) -> list[PythonTool]:
    """Tools of the `tools` registry kind (or `package.module:function` paths), one shared state dict."""
    from gage_eval.registry import registry

    state = {} if state is None else state
    out = []
    for i, name in enumerate(names):
        fn = registry.get("tools", name, config_path=f"{path}[{i}]")
        entry = None if ":" in name else registry.entry("tools", name)
        out.append(PythonTool(name.rsplit(":", 1)[-1], fn, entry.desc if entry and entry.desc else None,
                              state, sandbox, workspace))
    return out

"""The tool protocol: what an agent can call, and a ToolBox that calls it safely.

A `Tool` has a spec (name, description, JSON Schema of its arguments) and an async `call(arguments)`
returning a `ToolOutcome`. Sources: Python functions of the registry kind `tools` (python_tools.py) and MCP
servers (mcp_tools.py); benchmarks may bring their own (anything with `spec` and `call`).

`ToolBox.call` never raises for what a model can do wrong — an unknown tool, arguments that are not a JSON
object, a tool that raises or hangs past its timeout: each comes back as an error observation with a
`status`, so the trajectory records it and the agent can react. Only the loss of a tool server (its process
died) is raised (ToolServerError), because no later call can succeed and the sample must be redone.
"""
from __future__ import annotations

import asyncio
import fnmatch
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from gage_eval.errors import ConfigError, close_match_hint

DEFAULT_MAX_RESULT_CHARS = 16_000


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    source: str = ""  # "python:<registry name>", "mcp:<server id>", ...

    def openai(self) -> dict[str, Any]:
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": self.parameters}}


@dataclass
class ToolOutcome:
    content: str
    is_error: bool = False
    status: str = "ok"  # ok | error | timeout | unknown_tool | bad_arguments
    truncated_chars: int = 0  # characters cut from a huge result (a note in the content says so)


class Tool(Protocol):
    spec: ToolSpec

    async def call(self, arguments: dict[str, Any]) -> ToolOutcome: ...


class ToolServerError(Exception):
    """A tool server is gone (its process died, its connection closed): no call to it can succeed."""


def as_text(value: Any) -> str:
    """A tool's return value as the text the model reads: strings as they are, everything else as JSON."""
    if isinstance(value, str):
        return value
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY).decode()
    except TypeError:
        return str(value)


def cut(text: str, limit: int) -> tuple[str, int]:
    """`text` within `limit` characters; a cut result ends with a note saying how much was left out."""
    if limit <= 0 or len(text) <= limit:
        return text, 0
    dropped = len(text) - limit
    return f"{text[:limit]}\n[tool result truncated: {dropped} of {len(text)} characters not shown]", dropped


def select(specs: Iterable[ToolSpec], patterns: list[str] | None, path: str) -> list[ToolSpec]:
    """The tools whose names match any pattern (exact names or globs like `fs_*`), in the given order.
    A pattern that matches nothing is a config error: a typo must not silently remove a tool."""
    specs = list(specs)
    if not patterns:
        return specs
    names = [s.name for s in specs]
    for i, pattern in enumerate(patterns):
        if not fnmatch.filter(names, pattern):
            raise ConfigError(f"tool pattern '{pattern}' matches no tool", path=f"{path}[{i}]",
                              fix=close_match_hint(pattern, names) if names else "no tools are available")
    return [s for s in specs if any(fnmatch.fnmatchcase(s.name, p) for p in patterns)]


class ToolBox:
    """The tools of one sample (or one task): call by name with a timeout, results cut to size."""

    def __init__(self, tools: Iterable[Tool], *, timeout_s: float = 60.0,
                 max_result_chars: int = DEFAULT_MAX_RESULT_CHARS) -> None:
        self.tools: dict[str, Tool] = {}
        for tool in tools:
            self.tools.setdefault(tool.spec.name, tool)  # the first source of a name wins, in config order
        self.timeout_s = timeout_s
        self.max_result_chars = max_result_chars

    @property
    def specs(self) -> list[ToolSpec]:
        return [t.spec for t in self.tools.values()]

    def openai_tools(self) -> list[dict[str, Any]]:
        return [s.openai() for s in self.specs]

    async def call(self, name: str, arguments: dict[str, Any] | None, error: str | None = None
                   ) -> tuple[ToolOutcome, float]:
        """(outcome, duration in ms). `error`: the model's arguments did not parse (reported, not called)."""
        start = time.perf_counter()
        outcome = await self._call(name, arguments, error)
        outcome.content, outcome.truncated_chars = cut(outcome.content, self.max_result_chars)
        return outcome, (time.perf_counter() - start) * 1000

    async def _call(self, name: str, arguments: dict[str, Any] | None, error: str | None) -> ToolOutcome:
        tool = self.tools.get(name)
        if tool is None:
            known = ", ".join(self.tools) or "none"
            return ToolOutcome(f"Error: there is no tool named '{name}'. Available tools: {known}.", True,
                               "unknown_tool")
        if error is not None or arguments is None:
            return ToolOutcome(f"Error: the arguments of this call to '{name}' could not be read: {error}. "
                               "Send the arguments as one JSON object.", True, "bad_arguments")
        try:
            return await asyncio.wait_for(tool.call(arguments), self.timeout_s)
        except asyncio.TimeoutError:
            return ToolOutcome(f"Error: tool '{name}' did not answer within {self.timeout_s:g} s.", True, "timeout")
        except ToolServerError:
            raise
        except Exception as exc:  # noqa: BLE001 - a failing tool is an observation for the agent
            return ToolOutcome(f"Error: tool '{name}' failed: {type(exc).__name__}: {exc}", True, "error")

    async def aclose(self) -> None:
        return None

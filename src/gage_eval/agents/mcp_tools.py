"""Tools from MCP servers through the official `mcp` SDK: stdio servers as subprocesses, streamable HTTP by URL.

Each connection is owned by one asyncio task that enters the SDK's transport and session and leaves them
when asked to close: the SDK's anyio cancel scopes must be left by the task that entered them, while the
tools are called from whichever task runs a sample. Closing (normal end, an error, Ctrl-C's cancellation)
always stops a stdio server: the SDK closes its stdin, then terminates its process tree. A gage process
killed outright closes the pipe too, and an MCP stdio server ends at end of input. A server's stderr goes
to `logs/mcp/<server_id>.log` in the run directory.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gage_eval.agents.tools import ToolOutcome, ToolServerError, ToolSpec
from gage_eval.errors import ConfigError

log = logging.getLogger("gage_eval")
_CONNECTION_CLOSED = -32000
_REQUEST_TIMEOUT = -32001


class MCPServerSpec(BaseModel):
    """One MCP server of a toolchain: `command` (stdio subprocess) or `url` (streamable HTTP)."""

    model_config = ConfigDict(extra="forbid")

    server_id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    command: str | None = None  # `python` / `python3`: the interpreter running gage
    # A relative `*.py` argument that exists beside the config file is resolved there (when no cwd is given).
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)  # added to PATH/HOME/... (the parent's secrets never pass)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    # per_sample: a fresh server for every sample (stateful tools never leak state between samples);
    # per_task: one server for all samples (stateless tools; cheaper).
    lifecycle: Literal["per_sample", "per_task"] = "per_sample"
    startup_timeout_s: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _one_transport(self) -> MCPServerSpec:
        if bool(self.command) == bool(self.url):
            raise ValueError("give exactly one of command (a stdio server to start) or url (a streamable-HTTP "
                             "server to connect to)")
        return self


def _require_sdk() -> None:
    try:
        import mcp  # noqa: F401
    except ImportError:
        raise ConfigError("MCP tool servers need the mcp package", path="params.mcp_servers",
                          fix="pip install 'gage-eval[agents]'") from None


class MCPConnection:
    """A live session with one MCP server; `call` from any task, `aclose` from any task."""

    def __init__(self, spec: MCPServerSpec, log_dir: Path | None = None, base_dir: Path | None = None) -> None:
        _require_sdk()
        self.spec = spec
        self.log_dir = log_dir
        self.base_dir = base_dir
        self.session: Any = None
        self.tools: list[ToolSpec] = []
        self._ready = asyncio.Event()
        self._closing = asyncio.Event()
        self._owner: asyncio.Task | None = None
        self._error: BaseException | None = None
        self.gone: str | None = None  # why the server is no longer usable

    @property
    def where(self) -> str:
        return f"MCP server '{self.spec.server_id}' ({self.spec.url or self.spec.command})"

    async def start(self) -> MCPConnection:
        self._owner = asyncio.get_running_loop().create_task(self._own(), name=f"mcp-{self.spec.server_id}")
        try:
            await asyncio.wait_for(self._ready.wait(), self.spec.startup_timeout_s)
        except asyncio.TimeoutError:
            await self.aclose()
            raise ToolServerError(f"{self.where} did not finish its MCP handshake within "
                                  f"{self.spec.startup_timeout_s:g} s{self._stderr_hint()}") from None
        except BaseException:
            await self.aclose()
            raise
        if self._error is not None:
            await self.aclose()
            raise ToolServerError(f"{self.where} could not be started: {type(self._error).__name__}: "
                                  f"{self._error}{self._stderr_hint()}") from None
        return self

    def _stderr_hint(self) -> str:
        path = self._log_path()
        if path is None or not path.exists():
            return ""
        tail = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        return f" (stderr, {path}: {' | '.join(tail)[:400]})" if tail else f" (see {path})"

    def _log_path(self) -> Path | None:
        return None if self.log_dir is None else self.log_dir / f"{self.spec.server_id}.log"

    async def _own(self) -> None:
        from mcp import ClientSession

        try:
            async with contextlib.AsyncExitStack() as stack:
                read, write = await stack.enter_async_context(self._transport(stack))
                self.session = await stack.enter_async_context(ClientSession(read, write))
                await self.session.initialize()
                listed = await self.session.list_tools()
                self.tools = [ToolSpec(t.name, t.description or "", dict(t.input_schema or {"type": "object"}),
                                       f"mcp:{self.spec.server_id}") for t in listed.tools]
                self._ready.set()
                await self._closing.wait()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - reported by start() or by the next call
            self._error = exc
            self.gone = self.gone or f"{type(exc).__name__}: {exc}"
        finally:
            self._ready.set()

    def _transport(self, stack: contextlib.AsyncExitStack) -> Any:
        if self.spec.url:
            from mcp.client.streamable_http import streamable_http_client

            if self.spec.headers:
                import httpx2  # the SDK's HTTP client

                client = httpx2.AsyncClient(headers=self.spec.headers)
                stack.push_async_callback(client.aclose)
                return _two(streamable_http_client(self.spec.url, http_client=client))
            return _two(streamable_http_client(self.spec.url))
        from mcp import StdioServerParameters, stdio_client

        errlog: Any = None
        path = self._log_path()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            errlog = stack.enter_context(path.open("a", encoding="utf-8"))
        cwd = self.spec.cwd
        if cwd and self.base_dir is not None and not Path(cwd).is_absolute():
            cwd = str(self.base_dir / cwd)
        # `python` / `python3` mean this interpreter: the server then has the same packages (mcp among them).
        command = sys.executable if self.spec.command in ("python", "python3") else self.spec.command or ""
        args = [str(self.base_dir / a) if self.base_dir is not None and a.endswith(".py") and not Path(a).is_absolute()
                and (self.base_dir / a).is_file() and cwd is None else a for a in self.spec.args]
        params = StdioServerParameters(command=command, args=args, env=self.spec.env or None, cwd=cwd)
        return stdio_client(params, errlog=errlog) if errlog is not None else stdio_client(params)

    async def call(self, name: str, arguments: dict[str, Any], timeout_s: float) -> ToolOutcome:
        from mcp.shared.exceptions import MCPError

        if self.gone is not None or self.session is None:
            raise ToolServerError(f"{self.where} is no longer running: {self.gone or 'not started'}")
        try:
            result = await self.session.call_tool(name, arguments, read_timeout_seconds=timeout_s)
        except MCPError as exc:
            if exc.code == _REQUEST_TIMEOUT:
                return ToolOutcome(f"Error: tool '{name}' did not answer within {timeout_s:g} s.", True, "timeout")
            if exc.code == _CONNECTION_CLOSED:
                self.gone = f"the connection closed during a call to '{name}'"
                raise ToolServerError(f"{self.where} stopped: {self.gone}{self._stderr_hint()}") from None
            return ToolOutcome(f"Error: {exc.error.message}", True, "error")
        return ToolOutcome(_result_text(result), bool(result.is_error), "error" if result.is_error else "ok")

    async def aclose(self) -> None:
        self._closing.set()
        owner, self._owner = self._owner, None
        if owner is not None and not owner.done():
            try:
                # The SDK's own shutdown is bounded (a few seconds to SIGKILL); never wait forever on it.
                await asyncio.wait_for(asyncio.shield(owner), 15)
            except asyncio.TimeoutError:
                owner.cancel()
                await asyncio.gather(owner, return_exceptions=True)
            except asyncio.CancelledError:
                owner.cancel()
                await asyncio.gather(owner, return_exceptions=True)
                raise


@contextlib.asynccontextmanager
async def _two(cm: Any) -> Any:
    """The streamable-HTTP transport yields (read, write, get_session_id) in some SDK versions, a pair in others."""
    async with cm as streams:
        yield streams[0], streams[1]


def _result_text(result: Any) -> str:
    parts = []
    for block in result.content or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind == "resource":
            resource = block.resource
            parts.append(getattr(resource, "text", None) or f"[resource {resource.uri}]")
        else:
            parts.append(f"[{kind} content: {getattr(block, 'mime_type', '') or 'binary'}]")
    if not parts and getattr(result, "structured_content", None) is not None:
        from gage_eval.agents.tools import as_text

        return as_text(result.structured_content)
    return "\n".join(parts)


class MCPTool:
    def __init__(self, spec: ToolSpec, connection: MCPConnection, timeout_s: float) -> None:
        self.spec = spec
        self.connection = connection
        self.timeout_s = timeout_s

    async def call(self, arguments: dict[str, Any]) -> ToolOutcome:
        return await self.connection.call(self.spec.name, arguments, self.timeout_s)

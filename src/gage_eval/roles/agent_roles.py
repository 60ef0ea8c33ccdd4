"""Agent roles (spec §1.4.5, §4.4): `toolchain` (support step) and `dut_agent` (inference step).

The toolchain gathers the sample's tools — MCP servers and Python functions of the `tools` registry —
into a ToolBox kept in the sample's scope (steps/context.py), and either documents them in the prompt or
leaves them for the request (`tool_doc_format`). The dut_agent runs the agent loop (agents/loop.py) with its
backend and that ToolBox; the trajectory goes to the sample record as it grows.
"""
from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any, ClassVar

from gage_eval.agents.config import DutAgentParams, ToolchainParams, parse_params
from gage_eval.agents.loop import AgentLimits, AgentLoop
from gage_eval.agents.mcp_tools import MCPConnection, MCPServerSpec, MCPTool
from gage_eval.agents.python_tools import python_tools
from gage_eval.agents.tools import Tool, ToolBox, select
from gage_eval.agents.trajectory import Trajectory
from gage_eval.agents.workspace import WORKSPACE
from gage_eval.backends.base import GenerationRequest, GenerationResponse, require_capability
from gage_eval.config.models import RoleAdapterSpec
from gage_eval.errors import ConfigError
from gage_eval.registry import registry
from gage_eval.roles.base import RoleAdapter, RoleResources
from gage_eval.roles.model_roles import ModelRoleAdapter
from gage_eval.sample import Message, Sample
from gage_eval.steps.context import SampleScope

TOOLBOX = "toolbox"
TOOL_DOC_FORMAT = "tool_doc_format"
SANDBOX = "sandbox"


def tool_docs(toolbox: ToolBox, header: str) -> str:
    lines = [header]
    for spec in toolbox.specs:
        lines.append(json.dumps(spec.openai()["function"], ensure_ascii=False))
    return "\n".join(lines)


@registry.asset("roles", "toolchain", desc="tools for agents: MCP servers and Python functions (support step)",
                tags=("support", "agent"))
class ToolchainAdapter(RoleAdapter):
    role_type = "toolchain"

    def __init__(self, spec: RoleAdapterSpec, resources: RoleResources, config_path: str) -> None:
        super().__init__(spec, resources, config_path)
        self.params: ToolchainParams = parse_params(ToolchainParams, spec.params, config_path)
        # Resolve Python tool names now: a typo fails `gage validate`, not the first sample.
        for i, tool in enumerate(python_tools(self.params.python_tools, f"{config_path}.params.python_tools")):
            if "sandbox" in tool.injected and self.params.sandbox_profile is None:
                raise ConfigError(f"tool '{tool.spec.name}' runs in a sandbox, and this toolchain has no "
                                  "sandbox_profile", path=f"{config_path}.params.python_tools[{i}]",
                                  fix="set params.sandbox_profile to one of sandbox_profiles[].profile_id "
                                      "(runtime: local needs no Docker)")
        ids = [s.server_id for s in self.params.mcp_servers]
        dup = next((i for i, x in enumerate(ids) if ids.index(x) != i), None)
        if dup is not None:
            raise ConfigError(f"duplicate server_id '{ids[dup]}'", path=f"{config_path}.params.mcp_servers[{dup}]",
                              fix="give every MCP server a distinct server_id")
        self.sandboxes = resources.extra.get("sandboxes")
        if self.params.sandbox_profile is not None:
            from gage_eval.agents.sandbox_profiles import check_profile_reference

            check_profile_reference(self.sandboxes, self.params.sandbox_profile,
                                    f"{config_path}.params.sandbox_profile")
        run_dir = self.run_dir = Path(resources.run_dir) if resources.run_dir is not None else None
        self.log_dir = run_dir / "logs" / "mcp" if run_dir is not None else None
        self.base_dir: Path | None = resources.extra.get("base_dir")
        self._shared: list[MCPConnection] | None = None
        self._shared_lock: asyncio.Lock | None = None

    async def _task_connections(self) -> list[MCPConnection]:
        """per_task servers, started by the first sample that needs them, closed with the adapter."""
        if self._shared is None:
            if self._shared_lock is None:
                self._shared_lock = asyncio.Lock()
            async with self._shared_lock:
                if self._shared is None:
                    started: list[MCPConnection] = []
                    try:
                        for spec in self.params.mcp_servers:
                            if spec.lifecycle == "per_task":
                                started.append(await self._connect(spec))
                    except BaseException:
                        await asyncio.gather(*(c.aclose() for c in started), return_exceptions=True)
                        raise
                    self._shared = started
        return self._shared

    async def _connect(self, spec: MCPServerSpec, label: str = "") -> MCPConnection:
        return await MCPConnection(spec, self.log_dir, self.base_dir, label).start()

    async def build_toolbox(self, scope: SampleScope) -> ToolBox:
        tools: list[Tool] = []
        for conn in await self._task_connections():
            tools += [MCPTool(s, conn, self.params.call_timeout_s) for s in conn.tools]
        for spec in self.params.mcp_servers:
            if spec.lifecycle == "per_sample":
                conn = await self._connect(spec, f"sample {scope.sample_id}")
                scope.on_close(conn.aclose)
                tools += [MCPTool(s, conn, self.params.call_timeout_s) for s in conn.tools]
        sandbox = None
        if self.params.sandbox_profile is not None:
            artifacts = None if self.run_dir is None else \
                self.run_dir / "artifacts" / _safe(scope.task_id) / _safe(scope.sample_id)
            sandbox = await self.sandboxes.session(self.params.sandbox_profile, scope, artifacts)
            scope.resources[SANDBOX] = sandbox
        workspace = scope.resources.get(WORKSPACE)
        tools += python_tools(self.params.python_tools, f"{self.config_path}.params.python_tools", {}, sandbox,
                              workspace)
        needs = next((t.spec.name for t in tools if "workspace" in getattr(t, "injected", {})), None)
        if needs is not None and workspace is None:
            raise ConfigError(f"tool '{needs}' works in the sample's workspace, and no earlier support step made one",
                              path=f"{self.config_path}.params.python_tools",
                              fix="put a support step that provides a workspace (e.g. context_provider swebench_repo) "
                                  "before this toolchain")
        chosen = {s.name for s in select([t.spec for t in tools], self.params.select,
                                         f"{self.config_path}.params.select")}
        return ToolBox([t for t in tools if t.spec.name in chosen], timeout_s=self.params.call_timeout_s,
                       max_result_chars=self.params.max_result_chars)

    async def execute(self, payload: dict[str, Any]) -> dict[str, Any]:
        sample: Sample = payload["sample"]
        scope: SampleScope = payload["scope"]
        toolbox = await self.build_toolbox(scope)
        scope.resources[TOOLBOX] = toolbox
        scope.resources[TOOL_DOC_FORMAT] = self.params.tool_doc_format
        if self.params.tool_doc_format == "prompt":
            docs = tool_docs(toolbox, self.params.doc_header)
            if sample.messages and sample.messages[0].role == "system":
                sample.messages[0] = Message(role="system", content=f"{sample.messages[0].text()}\n\n{docs}")
            else:
                sample.messages.insert(0, Message(role="system", content=docs))
        return {"tools": [{"name": s.name, "source": s.source} for s in toolbox.specs],
                "tool_doc_format": self.params.tool_doc_format}

    async def aclose(self) -> None:
        shared, self._shared = self._shared or [], None
        await asyncio.gather(*(c.aclose() for c in shared), return_exceptions=True)
        if self.sandboxes is not None:
            await self.sandboxes.aclose()


def _safe(name: str) -> str:
    """A sample or task id as one folder name."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:120] or "_"


@registry.asset("roles", "dut_agent", desc="the agent under test: a model in a tool-calling loop (inference step)",
                tags=("model", "agent"))
class DutAgentAdapter(ModelRoleAdapter):
    role_type = "dut_agent"
    under_test: ClassVar[bool] = True  # quick mode (`gage eval --model`) points it at the user's model

    def __init__(self, spec: RoleAdapterSpec, resources: RoleResources, config_path: str) -> None:
        super().__init__(spec, resources, config_path)
        self.params: DutAgentParams = parse_params(DutAgentParams, spec.params, config_path)
        self.limits = AgentLimits(self.params.max_turns, self.params.max_total_tokens, self.params.time_limit_s,
                                  self.params.parallel_tool_calls)

    async def workspace_patch(self, scope: SampleScope) -> str:
        workspace = scope.resources.get(WORKSPACE)
        if workspace is None:
            raise ConfigError("params.workspace_patch is set, and the sample has no workspace",
                              path=f"{self.config_path}.params.workspace_patch",
                              fix="put a support step that provides a workspace (e.g. context_provider swebench_repo) "
                                  "before the inference step, or drop workspace_patch")
        return await workspace.diff()

    def check_tools_capability(self, backend_id: str) -> None:
        require_capability(self.caller.backend, "tools", backend_id, f"{self.config_path}.backend_id",
                           f"{self.config_path} (a dut_agent given tools with tool_doc_format: tools)")

    async def _generate(self, request: GenerationRequest) -> GenerationResponse:
        async with self.pool.acquire() as role:
            return await role.caller.generate(request)

    def initial_messages(self, sample: Sample) -> list[dict[str, Any]]:
        request = self.build_request(sample, self.prompt)
        messages = request.messages or [{"role": "user", "content": request.prompt or ""}]
        if self.params.system_prompt and not (messages and messages[0].get("role") == "system"):
            messages = [{"role": "system", "content": self.params.system_prompt}, *messages]
        return messages

    async def execute(self, payload: dict[str, Any]) -> dict[str, Any]:
        sample: Sample = payload["sample"]
        scope: SampleScope = payload.get("scope") or SampleScope()
        toolbox: ToolBox | None = scope.resources.get(TOOLBOX)
        mode = scope.resources.get(TOOL_DOC_FORMAT, "tools")
        loop = AgentLoop(self._generate, toolbox, self.limits, params={**self.generation,
                                                                        **sample.inputs.get("generation_params", {})},
                         tool_mode=mode, tool_choice=self.params.tool_choice, text_calls=self.params.text_tool_calls)
        trajectory = Trajectory()
        scope.trajectory = trajectory  # recorded even if the loop raises half-way
        followups = sample.inputs.get(self.params.followups_field) or []
        followups = [f if isinstance(f, dict) else {"role": "user", "content": str(f)} for f in followups]
        await loop.run(self.initial_messages(sample), trajectory, followups)
        summary = trajectory.summary()
        extra = {"patch": await self.workspace_patch(scope)} if self.params.workspace_patch else {}
        return {**extra, "answer": trajectory.final_answer or "", "usage": summary["usage"],
                "latency_ms": trajectory.model_ms, "finish_reason": trajectory.stop_reason,
                "stop_reason": trajectory.stop_reason, "turns": summary["turn_count"],
                "tool_calls": summary["tool_call_count"], "tool_errors": summary["tool_errors"]}

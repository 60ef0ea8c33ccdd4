"""Typed `params` of the agent roles (`toolchain`, `dut_agent`), validated when the pipeline is built."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gage_eval.agents.mcp_tools import MCPServerSpec
from gage_eval.agents.tools import DEFAULT_MAX_RESULT_CHARS
from gage_eval.config.loading import validation_to_config_error

DEFAULT_DOC_HEADER = ("You can call the following tools. To call one, write a block\n"
                      "<tool_call>\n{\"name\": \"<tool name>\", \"arguments\": {<arguments as JSON>}}\n</tool_call>\n"
                      "Tool results come back in <tool_response> blocks. When you are done, answer without a "
                      "tool call.\n\nTools:")


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ToolchainParams(_Params):
    mcp_servers: list[MCPServerSpec] = Field(default_factory=list)
    python_tools: list[str] = Field(default_factory=list)  # registry names (kind `tools`) or module:function
    select: list[str] | None = None  # tool names or globs (`fs_*`); default: every tool
    # tools: definitions passed in the request (native tool calling); prompt: documentation in the system
    # message, calls read from the model's text.
    tool_doc_format: Literal["tools", "prompt"] = "tools"
    doc_header: str = DEFAULT_DOC_HEADER
    max_result_chars: int = Field(default=DEFAULT_MAX_RESULT_CHARS, ge=0)  # 0: never cut
    call_timeout_s: float = Field(default=60.0, gt=0)
    sandbox_profile: str | None = None  # a sandbox_profiles[].profile_id; Python tools get it as `sandbox`


class DutAgentParams(_Params):
    max_turns: int = Field(default=20, ge=1)
    max_total_tokens: int | None = Field(default=None, ge=1)
    time_limit_s: float | None = Field(default=None, gt=0)
    parallel_tool_calls: bool = True
    tool_choice: str | dict[str, Any] | None = None
    # Read tool calls from the text too: auto | hermes | llama3_json | none (default: only in prompt mode).
    text_tool_calls: Literal["auto", "hermes", "llama3_json", "none"] | None = None
    system_prompt: str | None = None  # prepended as a system message
    # When the agent stops, the output's `patch` is the git diff of the sample's workspace (agents/workspace.py),
    # new files included — what judges of patches (SWE-bench) read.
    workspace_patch: bool = False
    followups_field: str = "followups"  # sample.inputs[<field>]: further user turns after each final answer
    # Keys the model-role base class reads (shared with dut_model):
    generation: dict[str, Any] = Field(default_factory=dict)
    prompt_format: Literal["chat_template"] | None = None


def parse_params(model: type[_Params], params: dict[str, Any], path: str) -> Any:
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        err = validation_to_config_error(exc, None, model)
        err.path = f"{path}.params.{err.path}" if err.path else f"{path}.params"
        raise err from None

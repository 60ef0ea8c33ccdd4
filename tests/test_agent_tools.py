"""Python tools (schema from the signature, injected state/sandbox), the ToolBox (selection, cut results),
and the toolchain's config errors."""
from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import Field

from gage_eval.agents.python_tools import PythonTool, python_tools
from gage_eval.agents.tools import ToolBox, ToolSpec, cut, select
from gage_eval.errors import ConfigError


def search(query: Annotated[str, Field(description="what to look for")], limit: int = 5,
           exact: bool = False, state: dict | None = None) -> list[str]:
    """Search the notes.

    Longer explanation that the model does not need."""
    return [query] * limit


def test_schema_from_signature_hides_injected_parameters() -> None:
    tool = PythonTool("search", search)
    assert tool.spec.description == "Search the notes."
    assert tool.spec.parameters == {
        "type": "object", "additionalProperties": False, "required": ["query"],
        "properties": {"query": {"type": "string", "description": "what to look for"},
                       "limit": {"type": "integer", "default": 5}, "exact": {"type": "boolean", "default": False}}}
    assert tool.spec.openai()["function"]["name"] == "search"


async def test_arguments_are_validated_and_converted() -> None:
    tool = PythonTool("search", search)
    assert (await tool.call({"query": "x", "limit": "2"})).content == '["x","x"]'
    bad = await tool.call({"query": "x", "extra": 1})
    assert bad.status == "bad_arguments" and "extra: Extra inputs are not permitted" in bad.content


async def test_registry_tools_share_state_within_one_toolbox() -> None:
    tools = python_tools(["notes_write", "notes_read", "calculator"], "params.python_tools")
    box = ToolBox(tools)
    assert [s.source for s in box.specs] == ["python:notes_write", "python:notes_read", "python:calculator"]
    (out, _) = await box.call("notes_write", {"key": "k", "text": "hello"})
    assert out.status == "ok"
    assert (await box.call("notes_read", {"key": "k"}))[0].content == "hello"
    assert (await box.call("calculator", {"expression": "(2 + 3) * 4 ** 2"}))[0].content == "80"
    assert (await box.call("calculator", {"expression": "__import__('os')"}))[0].status == "error"
    other = ToolBox(python_tools(["notes_read"], "p"))  # another sample: fresh state
    assert "no note 'k'" in (await other.call("notes_read", {"key": "k"}))[0].content
    with pytest.raises(ConfigError) as info:
        python_tools(["calculater"], "role_adapters[0].params.python_tools")
    assert info.value.path == "role_adapters[0].params.python_tools[0]" and "calculator" in info.value.fix


async def test_huge_results_are_cut_with_a_note() -> None:
    box = ToolBox([PythonTool("search", search)], max_result_chars=50)
    out, _ = await box.call("search", {"query": "y" * 40, "limit": 3})
    assert out.truncated_chars > 0 and out.content.startswith('["' + "y" * 40)
    assert f"[tool result truncated: {out.truncated_chars} of " in out.content
    assert cut("short", 50) == ("short", 0) and cut("x" * 10, 0) == ("x" * 10, 0)


def test_selection_by_name_and_glob() -> None:
    specs = [ToolSpec(n) for n in ("fs_read", "fs_write", "web_get", "calc")]
    assert [s.name for s in select(specs, ["fs_*", "calc"], "p")] == ["fs_read", "fs_write", "calc"]
    assert select(specs, None, "p") == specs
    with pytest.raises(ConfigError) as info:
        select(specs, ["fs_*", "cal"], "role_adapters[1].params.select")
    assert info.value.path == "role_adapters[1].params.select[1]" and "calc" in info.value.fix

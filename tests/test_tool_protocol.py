"""The tool-calling part of the backend protocol: requests, responses, cache keys, parsing of arguments."""
from __future__ import annotations

from pathlib import Path

from gage_eval.backends.base import GenerationRequest, GenerationResponse
from gage_eval.backends.tool_calls import assistant_message, openai_tool_calls, tool_call, tool_message
from gage_eval.engine.response_cache import ResponseCache, cache_key
from gage_eval.sample import Message

TOOLS = [{"type": "function", "function": {"name": "add", "description": "add two numbers",
                                           "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}}}}]


def test_cache_payload_has_tools_only_when_set() -> None:
    plain = GenerationRequest(messages=[{"role": "user", "content": "hi"}])
    assert "tools" not in plain.cache_payload() and "tool_choice" not in plain.cache_payload()
    with_tools = GenerationRequest(messages=plain.messages, tools=TOOLS, tool_choice="auto")
    assert with_tools.cache_payload()["tools"] == TOOLS and with_tools.cache_payload()["tool_choice"] == "auto"
    ident = {"type": "x"}
    assert cache_key(ident, plain) != cache_key(ident, with_tools)
    assert cache_key(ident, with_tools) != cache_key(ident, GenerationRequest(messages=plain.messages, tools=TOOLS,
                                                                              tool_choice="required"))


def test_arguments_parse_or_carry_an_error() -> None:
    ok = tool_call("add", '{"a": 1}', "c1")
    assert ok == {"id": "c1", "name": "add", "arguments": {"a": 1}, "raw_arguments": '{"a": 1}', "error": None}
    bad = tool_call("add", '{"a": 1', "c2")
    assert bad["arguments"] is None and bad["raw_arguments"] == '{"a": 1' and "not valid JSON" in bad["error"]
    not_obj = tool_call("add", "[1, 2]")
    assert not_obj["arguments"] is None and "JSON object" in not_obj["error"] and not_obj["id"].startswith("call_")
    assert tool_call("noargs", "")["arguments"] == {}
    decoded = tool_call("add", {"a": 2})
    assert decoded["arguments"] == {"a": 2} and decoded["raw_arguments"] == '{"a": 2}'
    assert tool_call("", "{}")["error"] == "tool call without a function name"


def test_openai_message_round_trip() -> None:
    calls = openai_tool_calls([{"id": "x", "type": "function", "function": {"name": "add", "arguments": '{"a":3}'}},
                               "junk"])
    assert [c["arguments"] for c in calls] == [{"a": 3}]
    msg = assistant_message("", calls)
    assert msg == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "x", "type": "function", "function": {"name": "add", "arguments": '{"a":3}'}}]}
    assert tool_message("x", "3", "add") == {"role": "tool", "tool_call_id": "x", "content": "3", "name": "add"}
    # The sample's Message model accepts both turns as they are.
    assert Message.model_validate(msg).text() == ""
    assert Message.model_validate(tool_message("x", "3")).text() == "3"


async def test_response_round_trips_through_the_cache(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    calls = [tool_call("add", '{"a": 1}', "c1"), tool_call("add", "nope", "c2")]
    await cache.put("k", GenerationResponse(text="", tool_calls=calls, finish_reason="tool_calls"))
    hit = await cache.get("k")
    assert hit is not None and hit.cached and hit.tool_calls == calls and hit.finish_reason == "tool_calls"
    # Entries written before tool calls existed still load.
    assert GenerationResponse.from_dict({"text": "a"}).tool_calls == []
    cache.close()

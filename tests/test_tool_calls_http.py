"""Tool calling over HTTP: openai_http against the test server's real OpenAI wire format, whole and streamed."""
from __future__ import annotations

import pytest

from gage_eval.backends.base import GenerationRequest
from gage_eval.backends.openai_http import OpenAIHTTPBackend
from gage_eval.engine.model_call import ModelCaller, RetryPolicy
from gage_eval.engine.response_cache import ResponseCache
from gage_eval.errors import BackendConnectionError
from gage_eval.testing.server import OpenAITestServer, TestServerConfig
from gage_eval.testing.tool_replies import agent_script, call, reply

TOOLS = [{"type": "function", "function": {"name": "add", "description": "add",
                                           "parameters": {"type": "object", "properties": {
                                               "a": {"type": "integer"}, "b": {"type": "integer"}},
                                               "required": ["a", "b"]}}}]


def _backend(url: str, **cfg) -> OpenAIHTTPBackend:
    return OpenAIHTTPBackend.from_config({"base_url": url, "model": "m", **cfg})  # type: ignore[return-value]


def _request(**kw) -> GenerationRequest:
    return GenerationRequest(messages=[{"role": "user", "content": "add 2 and 3"}], tools=TOOLS, **kw)


@pytest.mark.parametrize("stream", [False, True])
async def test_tool_calls_parsed_whole_and_streamed(stream: bool) -> None:
    seen = []

    def script(body: dict) -> dict:
        seen.append(body)
        return reply(call("add", {"a": 2, "b": 3}, "c1"), call("add", '{"a": 2, "b":', "c2"),
                     content="let me add")

    async with OpenAITestServer(TestServerConfig(script=script)) as srv, _backend(srv.base_url, stream=stream) as b:
        r = await b.generate(_request(tool_choice="auto"))
    assert seen[0]["tools"] == TOOLS and seen[0]["tool_choice"] == "auto"
    assert bool(seen[0].get("stream")) is stream
    assert r.text == "let me add" and r.finish_reason == "tool_calls"
    ok, bad = r.tool_calls
    assert ok == {"id": "c1", "name": "add", "arguments": {"a": 2, "b": 3}, "raw_arguments": '{"a": 2, "b": 3}',
                  "error": None}
    assert bad["id"] == "c2" and bad["arguments"] is None and bad["raw_arguments"] == '{"a": 2, "b":'
    assert "not valid JSON" in bad["error"]
    assert r.usage["completion_tokens"] > 0


async def test_tool_turns_are_sent_back_in_openai_format_and_cached(tmp_path) -> None:
    """The second turn carries the assistant's tool_calls and the tool result; the cache keys on tools."""
    seen = []

    def script(body: dict) -> object:
        seen.append(body)
        return agent_script(1)(body)

    async with OpenAITestServer(TestServerConfig(script=script)) as srv, _backend(srv.base_url) as b:
        cache = ResponseCache(tmp_path / "c.sqlite")
        caller = ModelCaller(b, RetryPolicy(max_attempts=1), cache)
        first = await caller.generate(_request())
        assert [c["name"] for c in first.tool_calls] == ["add"] and first.tool_calls[0]["arguments"] == {"a": 1, "b": 1}
        call_msg = {"role": "assistant", "content": None, "tool_calls": [
            {"id": first.tool_calls[0]["id"], "type": "function",
             "function": {"name": "add", "arguments": first.tool_calls[0]["raw_arguments"]}}]}
        second_req = GenerationRequest(messages=[*_request().messages, call_msg,
                                                 {"role": "tool", "tool_call_id": first.tool_calls[0]["id"],
                                                  "content": "2"}], tools=TOOLS)
        second = await caller.generate(second_req)
        assert second.text == "done after 1 tool calls" and second.tool_calls == []
        assert seen[1]["messages"][1]["tool_calls"][0]["function"]["name"] == "add"
        assert seen[1]["messages"][2] == {"role": "tool", "tool_call_id": first.tool_calls[0]["id"], "content": "2"}
        again = await caller.generate(_request())
        assert again.cached and again.tool_calls == first.tool_calls and len(seen) == 2
        # Same messages without tools: a different request, not served the tool answer from the cache.
        await caller.generate(GenerationRequest(messages=_request().messages))
        assert len(seen) == 3
        cache.close()


async def test_stream_cut_mid_tool_call_is_a_retryable_connection_error() -> None:
    script = lambda body: reply(call("add", {"a": 2, "b": 3}))  # noqa: E731
    async with OpenAITestServer(TestServerConfig(script=script, stream_cut_after=3)) as srv, \
            _backend(srv.base_url, stream=True) as b:
        with pytest.raises(BackendConnectionError) as info:
            await b.generate(_request())
    assert info.value.retryable


async def test_plain_text_streaming_still_works() -> None:
    async with OpenAITestServer() as srv, _backend(srv.base_url, stream=True) as b:
        r = await b.generate(GenerationRequest(messages=[{"role": "user", "content": "one two three"}]))
    assert r.text == "one two three" and r.tool_calls == [] and r.usage["completion_tokens"] == 3

"""The openai_http backend against the bundled server over real sockets."""
from __future__ import annotations

import asyncio

import aiohttp
import orjson
import pytest
from aiohttp import web

from gage_eval.backends.base import GenerationRequest
from gage_eval.backends.openai_http import OpenAIHTTPBackend, parse_retry_after
from gage_eval.errors import BackendError, NonJSONReply
from gage_eval.testing.server import (
    OpenAITestServer,
    TestServerConfig,
    run_server_in_thread,
)
from tests.conftest import serve_routes


def _backend(url: str, **cfg) -> OpenAIHTTPBackend:
    return OpenAIHTTPBackend.from_config({"base_url": url, "model": "m", **cfg})  # type: ignore[return-value]


def _chat(text: str, **params) -> GenerationRequest:
    return GenerationRequest(messages=[{"role": "user", "content": text}], params=params)


async def test_chat_and_completions_round_trip_with_usage() -> None:
    async with OpenAITestServer() as srv:
        async with _backend(srv.base_url) as chat, _backend(srv.base_url, api="completions") as comp:
            r = await chat.generate(_chat("hello there"))
            assert r.text == "hello there" and r.finish_reason == "stop"
            assert r.usage == {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}
            r2 = await comp.generate(GenerationRequest(prompt="a b c", params={"max_tokens": 2}))
            assert r2.text == "a b" and r2.finish_reason == "length"


async def test_n_stop_and_logprobs_pass_through() -> None:
    async with OpenAITestServer() as srv, _backend(srv.base_url) as b:
        r = await b.generate(_chat("one two STOP three", n=3, stop=["STOP"], logprobs=True, top_logprobs=1))
        assert r.texts == ["one two"] * 3
        assert [t["token"] for t in r.logprobs["content"]] == ["one", "two"]


async def test_scripted_answers_and_generation_defaults() -> None:
    seen = []

    def script(body: dict) -> str:
        seen.append(body)
        return "B"

    async with OpenAITestServer(TestServerConfig(script=script)) as srv:
        async with _backend(srv.base_url, generation={"temperature": 0, "max_tokens": 8}) as b:
            r = await b.generate(_chat("Q?", seed=3, custom_flag=True))
    assert r.text == "B"
    assert seen[0]["temperature"] == 0 and seen[0]["max_tokens"] == 8 and seen[0]["seed"] == 3
    assert seen[0]["custom_flag"] is True and seen[0]["model"] == "m"


async def test_429_is_retryable_with_retry_after() -> None:
    async with OpenAITestServer(TestServerConfig(rate_429=1.0, retry_after_s=2)) as srv, _backend(srv.base_url) as b:
        with pytest.raises(BackendError) as info:
            await b.generate(_chat("x"))
    assert info.value.retryable and info.value.status == 429 and info.value.retry_after == 2.0


async def test_5xx_is_retryable_and_4xx_is_not() -> None:
    async with OpenAITestServer(TestServerConfig(fail_first_n=1)) as srv, _backend(srv.base_url) as b:
        with pytest.raises(BackendError) as info:
            await b.generate(_chat("x"))
        assert info.value.retryable and info.value.status == 503
        assert (await b.generate(_chat("ok"))).text == "ok"
    async with OpenAITestServer() as srv, _backend(srv.base_url.replace("/v1", "/v2")) as b:
        with pytest.raises(BackendError) as info:
            await b.generate(_chat("x"))
        assert not info.value.retryable and info.value.status == 404


async def test_dropped_connection_is_retryable() -> None:
    async with OpenAITestServer(TestServerConfig(drop_rate=1.0)) as srv, _backend(srv.base_url) as b:
        with pytest.raises(BackendError, match="connection error") as info:
            await b.generate(_chat("x"))
    assert info.value.retryable


async def test_timeout_on_slow_body_is_retryable() -> None:
    async with OpenAITestServer(TestServerConfig(slow_body_ms=2000)) as srv, _backend(srv.base_url, timeout_s=0.3) as b:
        with pytest.raises(BackendError, match="timeout") as info:
            await b.generate(_chat("x"))
    assert info.value.retryable


async def test_401_names_the_env_var_not_the_key() -> None:
    async with OpenAITestServer(TestServerConfig(require_api_key="right")) as srv:
        async with _backend(srv.base_url, api_key="sk-wrong-123", api_key_env="MY_KEY") as b:
            with pytest.raises(BackendError) as info:
                await b.generate(_chat("x"))
        assert "MY_KEY" in str(info.value) and "sk-wrong-123" not in str(info.value)
        assert not info.value.retryable
        assert "sk-wrong-123" not in repr(b.settings) and "sk-wrong-123" not in str(b.identity())
        async with _backend(srv.base_url, api_key="right") as ok:
            assert (await ok.generate(_chat("fine"))).text == "fine"


async def test_non_json_reply_is_a_clear_error() -> None:
    async def html(request: web.Request) -> web.Response:
        return web.Response(text="<html>gateway</html>", content_type="text/html")

    async with serve_routes({"/v1/chat/completions": html}) as base, _backend(f"{base}/v1") as b:
        with pytest.raises(NonJSONReply, match="web page") as info:
            await b.generate(_chat("x"))
    assert info.value.reason == "non-JSON reply" and "/v1" in (info.value.fix or "")


def test_retry_after_parsing() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert 0 <= parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past


async def test_server_streams_sse_with_usage_and_counts_requests() -> None:
    async with OpenAITestServer(TestServerConfig(ttft_ms=50, itl_ms=10)) as srv:
        async with aiohttp.ClientSession() as session:
            body = {"model": "m", "messages": [{"role": "user", "content": "a b c d"}], "stream": True,
                    "stream_options": {"include_usage": True}}
            start = asyncio.get_running_loop().time()
            arrivals, chunks = [], []
            async with session.post(f"{srv.base_url}/chat/completions", json=body) as resp:
                async for line in resp.content:
                    if line.startswith(b"data: ") and line.strip() != b"data: [DONE]":
                        chunks.append(orjson.loads(line[6:]))
                        arrivals.append(asyncio.get_running_loop().time() - start)
        text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
        assert text == "a b c d"
        assert chunks[-1]["usage"]["completion_tokens"] == 4
        assert arrivals[0] >= 0.045 and arrivals[3] - arrivals[0] >= 0.028
        assert srv.requests == 1 and srv.prompt_counts["a b c d"] == 1


def test_server_in_thread_for_sync_callers() -> None:
    import urllib.request

    with run_server_in_thread(TestServerConfig(script=["x", "y"])) as srv:
        def ask() -> str:
            req = urllib.request.Request(f"{srv.base_url}/chat/completions", method="POST",
                                         data=orjson.dumps({"model": "m", "messages": [{"role": "user", "content": "q"}]}),
                                         headers={"Content-Type": "application/json"})
            return orjson.loads(urllib.request.urlopen(req).read())["choices"][0]["message"]["content"]

        assert [ask(), ask(), ask()] == ["x", "y", "x"]
        assert srv.status_counts[200] == 3

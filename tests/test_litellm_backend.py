"""`litellm` backend through the real litellm SDK against the bundled OpenAI-compatible server (real socket),
with its `openai/` and `hosted_vllm/` providers: generation, retries by our policy, error classes, the key."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

pytest.importorskip("litellm")

from gage_eval.backends.base import GenerationRequest  # noqa: E402
from gage_eval.backends.litellm_backend import LiteLLMBackend  # noqa: E402
from gage_eval.cli.app import main  # noqa: E402
from gage_eval.engine.model_call import ModelCaller, RetryPolicy  # noqa: E402
from gage_eval.errors import BackendConnectionError, HTTPStatusError  # noqa: E402
from gage_eval.testing.server import OpenAITestServer, TestServerConfig, run_server_in_thread  # noqa: E402

KEY = "sk-test-SECRET-7f3a9c"
DEMO = Path(__file__).resolve().parents[1] / "config" / "datasets" / "demo_echo.jsonl"


def _backend(model: str, api_base: str, key: str = KEY) -> LiteLLMBackend:
    return LiteLLMBackend.from_config({"model": model, "api_base": api_base, "api_key": key,  # type: ignore[return-value]
                                       "api_key_env": "GAGE_TEST_KEY"})


@pytest.mark.parametrize("provider", ["openai", "hosted_vllm"])
async def test_generation_through_the_provider(provider: str) -> None:
    cfg = TestServerConfig(script={"capital": "Paris"}, require_api_key=KEY)
    async with OpenAITestServer(cfg) as srv:
        backend = _backend(f"{provider}/test-model", srv.base_url)
        reply = await backend.generate(GenerationRequest(
            messages=[{"role": "user", "content": "The capital of France?"}], params={"max_tokens": 8, "n": 2}))
    assert reply.text == "Paris" and reply.texts == ["Paris", "Paris"] and reply.finish_reason == "stop"
    assert reply.usage == {"prompt_tokens": 4, "completion_tokens": 2}
    assert srv.status_counts == {200: 1}


async def test_rate_limits_and_5xx_are_retried_by_our_policy_only() -> None:
    cfg = TestServerConfig(fail_prompts={"busy": 429, "crash": 503}, retry_after_s=0.02, require_api_key=KEY)
    async with OpenAITestServer(cfg) as srv:
        caller = ModelCaller(_backend("openai/test-model", srv.base_url), RetryPolicy(max_attempts=3, base_delay_s=0.01))
        for word, reason in (("busy", "HTTP 429"), ("crash", "HTTP 5xx")):
            sent = srv.requests
            with pytest.raises(HTTPStatusError) as err:
                await caller.generate(GenerationRequest(messages=[{"role": "user", "content": word}]))
            # exactly our 3 attempts reach the server: litellm's and the openai client's retries are off
            assert (err.value.reason, err.value.retryable, srv.requests - sent) == (reason, True, 3)
        assert err.value.retry_after is None
    assert caller.stats.retries == 4


async def test_rate_limit_carries_retry_after() -> None:
    async with OpenAITestServer(TestServerConfig(fail_prompts={"busy": 429}, retry_after_s=1.5)) as srv:
        with pytest.raises(HTTPStatusError) as err:
            await _backend("openai/test-model", srv.base_url).generate(
                GenerationRequest(messages=[{"role": "user", "content": "busy"}]))
    assert err.value.retry_after == pytest.approx(1.5)


async def test_wrong_key_names_the_variable_never_the_key() -> None:
    async with OpenAITestServer(TestServerConfig(require_api_key="the-right-one")) as srv:
        with pytest.raises(HTTPStatusError) as err:
            await _backend("openai/test-model", srv.base_url).generate(
                GenerationRequest(messages=[{"role": "user", "content": "x"}]))
    assert err.value.status == 401 and not err.value.retryable
    assert "GAGE_TEST_KEY" in str(err.value) and KEY not in str(err.value) and KEY not in (err.value.fix or "")


async def test_nothing_listening_is_a_retryable_connection_error() -> None:
    with pytest.raises(BackendConnectionError) as err:
        await _backend("openai/test-model", "http://127.0.0.1:9/v1").generate(
            GenerationRequest(messages=[{"role": "user", "content": "x"}]))
    assert err.value.retryable and "127.0.0.1:9" in str(err.value)


def test_gage_run_with_a_rate_limited_provider_keeps_the_key_out_of_the_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GAGE_TEST_KEY", KEY)
    # ~40% of requests answered 429 (seeded): the run's retry policy absorbs them
    cfg = TestServerConfig(rate_429=0.4, retry_after_s=0.01, require_api_key=KEY, seed=3)
    with run_server_in_thread(cfg) as server:
        config = {"api_version": "gage/v1alpha1", "kind": "RunConfig", "metadata": {"name": "litellm_demo"},
                  "base_task": "builtin/demo_echo",
                  "runtime": {"datasets": [{"dataset_id": "demo_echo", "params": {"path": str(DEMO)}}],
                              "backends": [{"backend_id": "echo_backend", "type": "litellm",
                                            "config": {"model": "hosted_vllm/test-model", "api_base": server.base_url,
                                                       "api_key_env": "GAGE_TEST_KEY"}}]}}
        path = tmp_path / "run.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        with pytest.raises(SystemExit) as done:
            main(["run", str(path), "--output-dir", str(tmp_path / "runs"), "--run-id", "lite", "--progress", "off"])
        statuses = dict(server.status_counts)
    assert done.value.code in (0, None)
    summary = json.loads((tmp_path / "runs" / "lite" / "summary.json").read_text())
    assert summary["sample_count"] == 20 and summary["failures"]["total"] == 0, summary["failures"]
    assert statuses.get(429, 0) >= 3 and statuses[200] == 20
    # the server echoes the prompt: exact_match is the share of records whose label is their prompt
    records = [json.loads(line) for line in DEMO.read_text(encoding="utf-8").splitlines() if line.strip()]
    expected = sum(r["prompt"] == r["label"] for r in records) / len(records)
    assert summary["tasks"][0]["metrics"]["exact_match"]["value"] == pytest.approx(expected)
    files = [p for p in (tmp_path / "runs" / "lite").rglob("*") if p.is_file()]
    assert any(p.name.startswith("samples") or p.suffix == ".jsonl" for p in files)
    for file in files:
        assert KEY not in file.read_text(encoding="utf-8", errors="replace"), file
    out, err = capfd.readouterr()
    assert KEY not in out and KEY not in err


async def test_tool_calls_through_litellm() -> None:
    from gage_eval.testing.tool_replies import call, reply

    tools = [{"type": "function", "function": {"name": "add", "description": "add two numbers", "parameters": {
        "type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}}}]
    seen: list[dict] = []

    def script(body: dict) -> object:
        seen.append(body)
        return reply(call("add", {"a": 1}, "c1"), call("add", "{oops", "c2"))

    async with OpenAITestServer(TestServerConfig(script=script, require_api_key=KEY)) as srv:
        backend = _backend("openai/test-model", srv.base_url)
        out = await backend.generate(GenerationRequest(messages=[{"role": "user", "content": "add"}], tools=tools,
                                                       tool_choice="auto"))
    assert seen[0]["tools"] == tools and seen[0]["tool_choice"] == "auto"
    assert out.finish_reason == "tool_calls"
    assert [(c["id"], c["name"], c["arguments"]) for c in out.tool_calls] == [("c1", "add", {"a": 1}), ("c2", "add", None)]
    assert out.tool_calls[1]["raw_arguments"] == "{oops" and "not valid JSON" in out.tool_calls[1]["error"]

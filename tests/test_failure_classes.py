"""Failure classes, the pre-flight probe against real local servers, and how samples' ends settle a run."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp import web

import gage_eval
from gage_eval.backends import http_probe
from gage_eval.backends.http_probe import ProbeTarget, probe_openai
from gage_eval.cli.exit_codes import ExitCode, exit_code_for
from gage_eval.cli.failure_table import failure_rows
from gage_eval.engine.failures import FailureTally, settle_status
from gage_eval.engine.runtime import RunResult
from gage_eval.errors import ConnectionRefused, GageError, HTTPStatusError, NonJSONReply, RunInterrupted
from gage_eval.testing.server import OpenAITestServer, TestServerConfig
from tests.conftest import pipeline, serve_routes, write_jsonl


def _target(base: str, model: str = "m") -> ProbeTarget:
    return ProbeTarget(api_root=f"{base}/v1", post_url=f"{base}/v1/chat/completions", model=model, chat=True)


async def test_probe_falls_back_to_one_token_when_models_is_not_served() -> None:
    seen = []

    async def chat(request: web.Request) -> web.Response:
        seen.append(await request.json())
        return web.json_response({"choices": [{"message": {"content": "pong"}}]})

    async with serve_routes({"/v1/chat/completions": chat}) as base:  # POST only: GET /v1/models is a 404 page
        assert await probe_openai(_target(base)) == []
    assert seen == [{"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "ping"}]}]


async def test_probe_stops_on_a_web_page_at_the_api_path_but_lets_a_busy_server_through() -> None:
    async def page(_: web.Request) -> web.Response:
        return web.Response(text="<html>Not Found</html>", status=404, content_type="text/html")

    async def busy(_: web.Request) -> web.Response:
        return web.json_response({"error": {"message": "overloaded"}}, status=503)

    async with serve_routes({"/v1/chat/completions": page}) as base:
        with pytest.raises(NonJSONReply) as info:
            await probe_openai(_target(base))
    assert info.value.reason == "non-JSON reply" and "/v1" in info.value.fix
    async with serve_routes({"/v1/chat/completions": busy}) as base:
        [warning] = await probe_openai(_target(base))  # 5xx: left to the run's retries
    assert "HTTP 5xx" in warning


async def test_probe_warns_about_an_unlisted_model_and_classifies_refusals_and_keys() -> None:
    async with OpenAITestServer(TestServerConfig()) as srv:
        [warning] = await probe_openai(ProbeTarget(srv.base_url, f"{srv.base_url}/chat/completions", "other", True))
        assert "other" in warning and "test-model" in warning
        assert srv.requests == 0  # /v1/models answered: no completion was requested
    async with OpenAITestServer(TestServerConfig(require_api_key="k")) as srv:
        with pytest.raises(HTTPStatusError) as info:
            await probe_openai(ProbeTarget(srv.base_url, f"{srv.base_url}/chat/completions", "m", True,
                                           headers={"Authorization": "Bearer nope"}, key_hint="$KEY"))
    assert info.value.reason == "HTTP 401" and "$KEY" in info.value.fix and info.value.status == 401
    with pytest.raises(ConnectionRefused) as refused:
        await probe_openai(_target(srv.base_url.removesuffix("/v1")))  # the server is stopped now
    assert refused.value.reason == "connection refused"


async def test_probe_slow_reply_is_a_warning_within_its_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_probe, "PREFLIGHT_TOTAL_S", 0.3)

    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({})

    app_routes = {"/v1/chat/completions": slow}
    async with serve_routes(app_routes) as base:
        [warning] = await probe_openai(_target(base))
    assert "timeout" in warning


def test_http_status_classes() -> None:
    assert HTTPStatusError("x", status=503).reason == "HTTP 5xx"
    assert HTTPStatusError("x", status=500).reason == "HTTP 5xx"
    assert HTTPStatusError("x", status=403).reason == "HTTP 403"
    # A proxy's HTML 502 page is a transient server fault, not a wrong URL.
    err = http_probe.error_from_reply(502, b"<html>Bad Gateway</html>", "u")
    assert err.reason == "HTTP 5xx" and err.retryable
    err = http_probe.error_from_reply(200, b"<html>hi</html>", "u")
    assert err.reason == "non-JSON reply" and not err.retryable
    assert http_probe.error_from_reply(200, b'{"x": 1}', "u").reason == "malformed reply"


def test_failure_tally_groups_by_reason_with_first_message_and_fix() -> None:
    tally = FailureTally()
    for i, reason in enumerate(["HTTP 5xx", "timeout", "HTTP 5xx"]):
        tally.add({"sample_id": f"s{i}", "error": {"reason": reason, "message": f"m{i}", "step": "inference"}})
    tally.add({"sample_id": "old", "error": {"type": "ValueError", "message": "bad"}})  # records before reasons
    rows = tally.as_list()
    assert [(r["reason"], r["count"], r["first_message"]) for r in rows] == [
        ("HTTP 5xx", 2, "m0"), ("timeout", 1, "m1"), ("ValueError", 1, "bad")]
    assert rows[0]["first_sample"] == "s0" and "logs" in rows[0]["fix"] and rows[2]["fix"] is None


def _failures(n: int) -> dict:
    return {"total": n, "classes": [{"reason": "HTTP 5xx", "count": n, "first_message": "boom", "fix": "f"}]}


def test_settle_status_all_some_none_and_threshold() -> None:
    assert settle_status("completed", None, 10, _failures(0), 0.0)[:2] == ("completed", None)
    status, error, verdict = settle_status("completed", None, 10, _failures(10), 0.5)
    assert status == "failed" and error["type"] == "AllSamplesFailed" and error["reason"] == "HTTP 5xx"
    status, error, verdict = settle_status("completed", None, 10, _failures(1), 0.0)
    assert status == "completed_with_failures" and error["type"] == "FailureRateExceeded"
    assert verdict == {"failure_rate": 0.1, "max_failure_rate": 0.0, "failure_rate_exceeded": True}
    status, error, verdict = settle_status("completed", None, 10, _failures(1), 0.1)  # at the threshold: fine
    assert status == "completed_with_failures" and error is None and not verdict["failure_rate_exceeded"]
    # A run stopped by the user or an error keeps its status and error.
    stop = {"type": "Interrupted", "message": "stopped"}
    assert settle_status("interrupted", stop, 10, _failures(1), 0.0)[:2] == ("interrupted", stop)


def test_exit_codes_are_distinct_and_match_the_errors() -> None:
    def result(status: str, exceeded: bool = False) -> RunResult:
        return RunResult("r", Path("."), status, {"run": {"failure_rate_exceeded": exceeded}})

    assert exit_code_for(result("completed")) == ExitCode.OK == 0
    assert exit_code_for(result("completed_with_failures")) == ExitCode.OK
    assert exit_code_for(result("completed_with_failures", True)) == ExitCode.PARTIAL_FAILURE == 3
    assert exit_code_for(result("failed")) == ExitCode.RUN_FAILED == 1
    assert exit_code_for(result("interrupted")) == ExitCode.INTERRUPTED == RunInterrupted().exit_code == 130
    assert GageError("bad config").exit_code == ExitCode.CONFIG_ERROR == 2
    assert len({int(c) for c in ExitCode}) == len(ExitCode)


def test_failure_rows_show_a_run_stopped_before_its_samples() -> None:
    summary = {"run": {"error": {"reason": "HTTP 401", "message": "no"}}, "failures": {"total": 0, "classes": []}}
    assert failure_rows(summary) == [("HTTP 401", "run", "no")]
    assert failure_rows({"run": {"error": None}, "failures": {"total": 0}}) == []


async def test_preflight_is_skippable_from_the_config(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": "s0", "prompt": "p", "label": "p"}])
    cfg = pipeline(data, backends=[{"backend_id": "echo", "type": "openai_http",
                                    "config": {"base_url": "http://127.0.0.1:9/v1", "model": "m"}}],
                   execution={"preflight": False, "max_failure_rate": 1.0})
    result = await gage_eval.arun(cfg, output_dir=tmp_path / "runs", run_id="x", progress="off", max_attempts=1)
    # No pre-flight: the sample itself met the dead server, with the specific class.
    assert result.status == "failed" and result.summary["run"]["error"]["type"] == "AllSamplesFailed"
    assert result.summary["failures"]["classes"][0]["reason"] == "connection refused"
    assert result.summary["run"]["max_failure_rate"] == 1.0

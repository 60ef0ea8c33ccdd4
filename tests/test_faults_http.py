"""Against the real local server: faults never lose or duplicate samples; API keys never leak."""
from __future__ import annotations

from pathlib import Path

import pytest

import gage_eval
from gage_eval.testing.server import OpenAITestServer, TestServerConfig
from tests.conftest import pipeline, read_jsonl, write_jsonl


def _http_pipeline(data: Path, base_url: str, **backend_extra) -> dict:
    return pipeline(data, backends=[{"backend_id": "echo", "type": "openai_http",
                                     "config": {"base_url": base_url, "model": "m", "timeout_s": 5,
                                                **backend_extra}}],
                    execution={"concurrency": 16})


@pytest.mark.parametrize("policy", ["graceful", "best_effort"])
async def test_5xx_and_dropped_connections_lose_and_duplicate_nothing(tmp_path: Path, policy: str) -> None:
    n = 300
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": f"s{i}", "prompt": f"p {i}", "label": f"p {i}"}
                                               for i in range(n)])
    cfg = TestServerConfig(fail_rate_5xx=0.2, drop_rate=0.05, seed=7)
    async with OpenAITestServer(cfg) as server:
        result = await gage_eval.arun(_http_pipeline(data, server.base_url), output_dir=tmp_path / "runs",
                                      run_id="f", progress="off", failure_policy=policy, max_attempts=3,
                                      retry_base_delay_s=0.001)
    records = read_jsonl(tmp_path / "runs" / "f" / "samples.jsonl")
    ids = [r["sample_id"] for r in records]
    assert sorted(ids) == sorted(f"s{i}" for i in range(n))  # none lost, none duplicated
    ok = [r for r in records if r["status"] == "ok"]
    failed = [r for r in records if r["status"] == "failed"]
    assert all(r["model_output"]["answer"] == r["sample"]["label"] for r in ok)
    assert all(r["error"]["retryable"] for r in failed)  # only exhausted transient faults fail
    assert result.summary["failures"]["total"] == len(failed)
    assert len(ok) > n * 0.9  # 3 attempts at ~25% fault rate: ~1.5% expected to fail
    backend = result.summary["runtime_health"]["backends"]["echo"]
    assert backend["retries"] > 0 and backend["requests"] == n + backend["retries"]


async def test_api_key_is_used_but_never_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-test-DO-NOT-LEAK-1234567890"
    monkeypatch.setenv("GAGE_TEST_KEY", secret)
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": f"s{i}", "prompt": f"p {i}", "label": f"p {i}"}
                                               for i in range(20)])
    async with OpenAITestServer(TestServerConfig(require_api_key=secret)) as server:
        result = await gage_eval.arun(_http_pipeline(data, server.base_url, api_key_env="GAGE_TEST_KEY"),
                                      output_dir=tmp_path / "runs", run_id="k", progress="off", sample_events=True)
    assert result.summary["metrics"]["exact_match"]["value"] == 1.0
    for path in (tmp_path / "runs").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


async def test_wrong_api_key_fails_with_clear_message_without_the_key(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAGE_TEST_KEY", "sk-wrong-key-abcdef")
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": "s0", "prompt": "p", "label": "p"}])
    async with OpenAITestServer(TestServerConfig(require_api_key="sk-right")) as server:
        checked = await gage_eval.arun(_http_pipeline(data, server.base_url, api_key_env="GAGE_TEST_KEY"),
                                       output_dir=tmp_path / "runs", run_id="pf", progress="off")
        assert server.requests == 0  # the pre-flight stopped the run: no sample was sent
        result = await gage_eval.arun(_http_pipeline(data, server.base_url, api_key_env="GAGE_TEST_KEY"),
                                      output_dir=tmp_path / "runs", run_id="w", progress="off", preflight=False)
    error = checked.summary["run"]["error"]
    assert checked.status == "failed" and error["reason"] == "HTTP 401" and "GAGE_TEST_KEY" in error["message"]
    record = read_jsonl(tmp_path / "runs" / "w" / "samples.jsonl")[0]
    assert record["error"]["status"] == 401 and "GAGE_TEST_KEY" in record["error"]["message"]
    assert result.summary["runtime_health"]["backends"]["echo"]["requests"] == 1  # 401 is not retried
    for path in (tmp_path / "runs").rglob("*"):
        if path.is_file():
            assert b"sk-wrong-key-abcdef" not in path.read_bytes(), path

"""Runs that fail say so: real `gage` processes against real servers on 127.0.0.1 that are dead, answer web
pages, refuse the key or fail some samples — exit code, the terminal's failure table, summary.json run.error,
the run_end event, logs/run.log and the report's badge in Chromium."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from gage_eval.testing.server import TestServerConfig, run_server_in_thread
from tests.browser import chromium_page
from tests.conftest import read_jsonl, write_jsonl

ROOT = Path(__file__).resolve().parents[1]
RED, AMBER, GREEN = "rgb(192, 57, 43)", "rgb(183, 121, 31)", "rgb(30, 142, 62)"  # report.css --bad/--warn/--ok


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed on exit: nothing listens there


def _config(tmp_path: Path, base_url: str, n: int = 3, **backend: object) -> Path:
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": f"s{i}", "prompt": f"q{i:02d}", "label": f"q{i:02d}"}
                                               for i in range(n)])
    cfg = {"kind": "PipelineConfig", "metadata": {"name": "t"},
           "datasets": [{"dataset_id": "qa", "loader": "jsonl", "params": {"path": str(data)}}],
           "backends": [{"backend_id": "srv", "type": "openai_http",
                         "config": {"base_url": base_url, "model": "test-model", "timeout_s": 5, **backend}}],
           "role_adapters": [{"adapter_id": "dut", "role_type": "dut_model", "backend_id": "srv"}],
           "metrics": ["exact_match"], "execution": {"concurrency": 2}}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _gage(*args: str, env: dict[str, str] | None = None, script: str | None = None
          ) -> tuple[subprocess.CompletedProcess, float]:
    cmd = [sys.executable, script] if script else [sys.executable, "-m", "gage_eval"]
    start = time.monotonic()
    proc = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200", **(env or {})})
    return proc, time.monotonic() - start


def _run(cfg: Path, tmp_path: Path, run_id: str, *extra: str, env: dict[str, str] | None = None
         ) -> tuple[subprocess.CompletedProcess, float, dict]:
    proc, wall = _gage("run", str(cfg), "--output-dir", str(tmp_path / "runs"), "--run-id", run_id,
                       "--progress", "off", *extra, env=env)
    summary = json.loads((tmp_path / "runs" / run_id / "summary.json").read_text())
    return proc, wall, summary


def _failed_count(stderr: str, reason: str) -> str:
    """The count column of the terminal failure table's row for `reason`."""
    assert "reason" in stderr and "first message" in stderr, stderr
    rows = [line.split() for line in stderr.splitlines() if line.startswith(f"  {reason}  ")]
    assert rows, stderr
    return rows[0][len(reason.split())]


def _read_badge(page: object, url: str) -> tuple[str, str, str]:
    page.goto(url)  # type: ignore[attr-defined]
    badge = page.locator("#run-status")  # type: ignore[attr-defined]
    color = badge.evaluate("el => getComputedStyle(el).color")
    banner_el = page.locator("#run-error")  # type: ignore[attr-defined]
    banner = banner_el.inner_text() if banner_el.count() else ""
    # The banner comes before every other section of the page.
    first = page.evaluate("() => document.querySelector('section').id")  # type: ignore[attr-defined]
    assert not banner or first == "run-error", first
    return badge.inner_text(), color, banner


def _badge_and_banner(run_dir: Path, *, viewer: bool = False) -> tuple[str, str, str]:
    """The status badge (text, colour) and the banner at the top of report.html as Chromium renders them;
    with `viewer`, also of `gage view`'s page of the run, which must show the same."""
    with chromium_page() as page:
        seen = _read_badge(page, (run_dir / "report.html").as_uri())
        if viewer:
            from tests.test_report_view import _Server

            with _Server(run_dir.parent) as base:
                live = _read_badge(page, f"{base}/live/{run_dir.name}")
            assert live == seen, (live, seen)
        return seen


def _assert_written_down(run_dir: Path, reason: str) -> dict:
    """summary.json run.error, the run_end event and logs/run.log all carry the reason and the fix."""
    summary = json.loads((run_dir / "summary.json").read_text())
    error = summary["run"]["error"]
    assert error["reason"] == reason and error["fix"] and error["message"], error
    events = read_jsonl(run_dir / "events.jsonl")
    end = [e for e in events if e["event"] == "run_end"][-1]["payload"]
    assert end["status"] == "failed" and end["error"]["reason"] == reason
    log = (run_dir / "logs" / "run.log").read_text()
    assert reason in log and "fix:" in log, log
    return error


def _assert_fast_failure(proc: subprocess.CompletedProcess, wall: float, summary: dict, reason: str) -> None:
    assert proc.returncode == 1, proc.stdout + proc.stderr  # run failure
    assert "Traceback" not in proc.stderr
    assert _failed_count(proc.stderr, reason) == "run"  # stopped before any sample
    assert "fix:" in proc.stderr
    assert summary["run"]["status"] == "failed" and summary["run"]["error"]["type"] == "PreflightError"
    assert summary["sample_count"] == 0  # no sample was sent
    assert wall < 10, wall


def test_unreachable_server_exits_1_within_seconds_with_the_reason_everywhere(tmp_path: Path) -> None:
    cfg = _config(tmp_path, f"http://127.0.0.1:{_closed_port()}/v1")
    proc, wall, summary = _run(cfg, tmp_path, "dead")
    print(f"dead endpoint: exit {proc.returncode} after {wall:.2f} s wall (whole `gage run` process)")
    _assert_fast_failure(proc, wall, summary, "connection refused")
    error = _assert_written_down(tmp_path / "runs" / "dead", "connection refused")
    assert "start the model server" in error["fix"]
    text, color, banner = _badge_and_banner(tmp_path / "runs" / "dead", viewer=True)
    assert text == "failed" and color == RED
    assert "connection refused" in banner and "fix: start the model server" in banner


def test_server_answering_html_stops_the_run_with_non_json_reply(tmp_path: Path) -> None:
    with run_server_in_thread(TestServerConfig(web_page=True)) as server:
        proc, wall, summary = _run(_config(tmp_path, server.base_url), tmp_path, "html")
    _assert_fast_failure(proc, wall, summary, "non-JSON reply")
    error = _assert_written_down(tmp_path / "runs" / "html", "non-JSON reply")
    assert "web page" in error["message"] and "/v1" in error["fix"]
    text, color, banner = _badge_and_banner(tmp_path / "runs" / "html")
    assert text == "failed" and color == RED and "non-JSON reply" in banner


def test_wrong_api_key_stops_the_run_with_http_401_and_never_writes_the_key(tmp_path: Path) -> None:
    wrong = "sk-wrong-key-0123456789"
    with run_server_in_thread(TestServerConfig(require_api_key="sk-right")) as server:
        cfg = _config(tmp_path, server.base_url, api_key_env="GAGE_TEST_KEY")
        proc, wall, summary = _run(cfg, tmp_path, "key", env={"GAGE_TEST_KEY": wrong})
        assert server.requests == 0  # stopped at /v1/models: no completion request was sent
    _assert_fast_failure(proc, wall, summary, "HTTP 401")
    error = _assert_written_down(tmp_path / "runs" / "key", "HTTP 401")
    assert "GAGE_TEST_KEY" in error["fix"] + error["message"]
    text, color, banner = _badge_and_banner(tmp_path / "runs" / "key")
    assert text == "failed" and color == RED and "HTTP 401" in banner
    for path in [*(tmp_path / "runs").rglob("*")]:
        if path.is_file():
            assert wrong.encode() not in path.read_bytes(), path
    assert wrong not in proc.stdout + proc.stderr


def test_without_preflight_every_sample_fails_with_its_class_and_the_run_is_failed(tmp_path: Path) -> None:
    with run_server_in_thread(TestServerConfig(require_api_key="sk-right")) as server:
        cfg = _config(tmp_path, server.base_url, api_key_env="GAGE_TEST_KEY")
        proc, _, summary = _run(cfg, tmp_path, "nopf", "--no-preflight", env={"GAGE_TEST_KEY": "sk-wrong"})
        assert server.requests == 3  # each sample tried once: a 401 is not retried
    assert proc.returncode == 1, proc.stderr
    assert _failed_count(proc.stderr, "HTTP 401") == "3"
    assert summary["run"]["status"] == "failed" and summary["run"]["error"]["type"] == "AllSamplesFailed"
    [cls] = summary["failures"]["classes"]
    assert cls["reason"] == "HTTP 401" and cls["count"] == 3 and "invalid api key" in cls["first_message"]
    record = read_jsonl(tmp_path / "runs" / "nopf" / "samples.jsonl")[0]
    assert record["error"]["reason"] == "HTTP 401" and record["error"]["type"] == "HTTPStatusError"
    _assert_written_down(tmp_path / "runs" / "nopf", "HTTP 401")


def test_partial_failure_exit_code_follows_max_failure_rate(tmp_path: Path) -> None:
    # 2 of 20 prompts are answered HTTP 400 (not retried): a failure rate of 0.10.
    faults = TestServerConfig(fail_prompts={"q03": 400, "q07": 400})
    with run_server_in_thread(faults) as server:
        cfg = _config(tmp_path, server.base_url, n=20)
        strict, _, s_strict = _run(cfg, tmp_path, "strict")
        lenient, _, s_lenient = _run(cfg, tmp_path, "lenient", "--max-failure-rate", "0.2")
        by_env, _, _ = _run(cfg, tmp_path, "env", env={"GAGE_EVAL_MAX_FAILURE_RATE": "0.5"})
        legacy, _ = _gage("--config", str(cfg), "--output-dir", str(tmp_path / "runs"), "--run-id", "runpy",
                          "--max-failure-rate", "0.05", script=str(ROOT / "run.py"))
    # Default threshold 0: any failed sample fails the command, with its own code.
    assert strict.returncode == 3, strict.stderr
    assert _failed_count(strict.stderr, "HTTP 400") == "2"
    run = s_strict["run"]
    assert run["status"] == "completed_with_failures" and run["failure_rate"] == pytest.approx(0.1)
    assert run["error"]["type"] == "FailureRateExceeded" and "2 of 20" in run["error"]["message"]
    assert s_strict["metrics"]["exact_match"]["count"] == 18
    # Within the threshold: exit 0, the status still says samples failed and the table is still printed.
    assert lenient.returncode == 0, lenient.stderr
    assert s_lenient["run"]["status"] == "completed_with_failures" and s_lenient["run"]["error"] is None
    assert _failed_count(lenient.stderr, "HTTP 400") == "2"
    assert by_env.returncode == 0, by_env.stderr
    assert legacy.returncode == 3 and _failed_count(legacy.stderr, "HTTP 400") == "2"  # run.py: same codes
    text, color, banner = _badge_and_banner(tmp_path / "runs" / "lenient", viewer=True)
    assert text == "completed with failures" and color == AMBER and "2 of 20 samples failed" in banner
    text, color, _ = _badge_and_banner(tmp_path / "runs" / "strict")
    assert color == AMBER


def test_successful_run_exits_0_with_a_green_badge_and_no_failure_table(tmp_path: Path) -> None:
    with run_server_in_thread(TestServerConfig()) as server:
        proc, _, summary = _run(_config(tmp_path, server.base_url), tmp_path, "ok")
    assert proc.returncode == 0 and summary["run"]["status"] == "completed" and summary["run"]["error"] is None
    assert "failures:" not in proc.stderr
    text, color, banner = _badge_and_banner(tmp_path / "runs" / "ok")
    assert text == "completed" and color == GREEN and banner == ""


def _arc(tmp_path: Path, n: int = 4) -> Path:
    return write_jsonl(tmp_path / "arc.jsonl", [
        {"id": f"Mercury_{i}", "question": f"Which planet is number {i}?",
         "choices": {"text": ["Mars", "Venus", "Earth", "Jupiter"], "label": ["A", "B", "C", "D"]},
         "answerKey": "ABCD"[i % 4]} for i in range(n)])


def test_gage_eval_against_a_dead_endpoint_exits_1_with_the_failure_table(tmp_path: Path) -> None:
    proc, wall = _gage("eval", "--model", "m", "--api-url", f"http://127.0.0.1:{_closed_port()}/v1",
                       "--datasets", "arc_easy", "--dataset-args", json.dumps({"arc_easy": {"local_path":
                                                                                str(_arc(tmp_path))}}),
                       "--work-dir", str(tmp_path / "runs"), "--run-id", "e", "--progress", "off")
    print(f"gage eval, dead endpoint: exit {proc.returncode} after {wall:.2f} s")
    summary = json.loads((tmp_path / "runs" / "e" / "summary.json").read_text())
    _assert_fast_failure(proc, wall, summary, "connection refused")


def test_gage_eval_partial_failure_uses_the_same_threshold(tmp_path: Path) -> None:
    args = ["--datasets", "arc_easy", "--dataset-args", json.dumps({"arc_easy": {"local_path": str(_arc(tmp_path))}}),
            "--work-dir", str(tmp_path / "runs"), "--progress", "off"]
    with run_server_in_thread(TestServerConfig(fail_prompts={"number 2": 400}, script=lambda b: "B")) as server:
        strict, _ = _gage("eval", "--model", "test-model", "--api-url", server.base_url, *args, "--run-id", "s")
        lenient, _ = _gage("eval", "--model", "test-model", "--api-url", server.base_url, *args, "--run-id", "l",
                           "--max-failure-rate", "0.25")
    assert strict.returncode == 3 and _failed_count(strict.stderr, "HTTP 400") == "1", strict.stderr
    assert lenient.returncode == 0 and _failed_count(lenient.stderr, "HTTP 400") == "1", lenient.stderr


def test_cached_rerun_works_against_a_dead_server_and_misses_fail_fast(tmp_path: Path) -> None:
    with run_server_in_thread(TestServerConfig()) as server:
        url = server.base_url
        cfg = _config(tmp_path, url, n=6)
        first, _, _ = _run(cfg, tmp_path, "warm", "--use-cache", "--max-samples", "4")
    assert first.returncode == 0, first.stderr
    # The server is gone: every answer comes from the cache; the failed pre-flight is a warning, not a stop.
    cached, _, summary = _run(cfg, tmp_path, "cached", "--use-cache", "--max-samples", "4")
    assert cached.returncode == 0, cached.stderr
    assert summary["run"]["status"] == "completed" and summary["metrics"]["exact_match"]["value"] == 1.0
    assert summary["runtime_health"]["response_cache"]["hits"] == 4
    assert "connection refused" in summary["run"]["preflight_warnings"][0]
    assert "warning: pre-flight: backend 'srv' failed its pre-flight" in cached.stderr
    # Two samples are not cached: they fail at once with the pre-flight's reason, not after retries.
    missed, wall, summary = _run(cfg, tmp_path, "missed", "--use-cache")
    assert missed.returncode == 3 and _failed_count(missed.stderr, "connection refused") == "2", missed.stderr
    assert summary["runtime_health"]["backends"]["srv"]["requests"] == 0 and wall < 10

"""`gage perf` against the local server: figures match the configured truth; bad endpoints fail clearly."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gage_eval.perf.client import PerfTarget
from gage_eval.perf.prompts import build_requests
from gage_eval.perf.runner import LoadPlan, run_levels
from gage_eval.testing.server import OpenAITestServer, TestServerConfig


def _target(base_url: str, **kw) -> PerfTarget:
    base = dict(url=f"{base_url}/chat/completions", model="m", api="openai-chat", stream=True, max_tokens=16,
                min_tokens=16, extra_body={}, timeout_s=10)
    return PerfTarget(**{**base, **kw})


def _plan(**kw) -> LoadPlan:
    return LoadPlan(**{"parallel": [1], "number": 8, "duration_s": None, "rate": math.inf, "warmup": 1, "seed": 0,
                       **kw})


async def test_streaming_figures_match_configured_delays() -> None:
    requests = build_requests("random", 16, path=None, seed=1, min_prompt_len=4, max_prompt_len=8)
    async with OpenAITestServer(TestServerConfig(ttft_ms=60, itl_ms=10)) as srv:
        (level1, level4) = await run_levels(_target(srv.base_url), requests, _plan(parallel=[1, 4]), {})
    for level in (level1, level4):
        s = level.stats
        assert s["completed"] == 8 and s["failed"] == 0
        assert s["total_output_tokens"] == 8 * 16 and s["token_source"] == {"usage": 8}
        assert s["mean_ttft_ms"] == pytest.approx(60, rel=0.15)
        assert s["mean_tpot_ms"] == pytest.approx(10, rel=0.15)
        assert s["mean_itl_ms"] == pytest.approx(10, rel=0.15)
        assert s["mean_e2el_ms"] == pytest.approx(60 + 15 * 10, rel=0.15)
        assert {"p50_ttft_ms", "p90_ttft_ms", "p95_ttft_ms", "p99_ttft_ms", "median_itl_ms", "std_e2el_ms"} <= set(s)
    # 4 in parallel finish 8 requests in about half the time of 1 (closed loop)
    assert level4.stats["request_throughput"] > 2.5 * level1.stats["request_throughput"]


async def test_non_streaming_and_completions_api() -> None:
    requests = build_requests("random", 4, path=None, seed=1, min_prompt_len=4, max_prompt_len=8)
    async with OpenAITestServer(TestServerConfig(latency_ms=30)) as srv:
        (level,) = await run_levels(_target(srv.base_url, api="openai-completions",
                                            url=f"{srv.base_url}/completions", stream=False),
                                    requests, _plan(number=4), {})
    s = level.stats
    assert s["completed"] == 4 and s["mean_e2el_ms"] == pytest.approx(30, rel=0.5)
    assert s["mean_itl_ms"] is None and s["mean_tpot_ms"] is not None


async def test_poisson_rate_and_duration_mode() -> None:
    requests = build_requests("random", 8, path=None, seed=1, min_prompt_len=4, max_prompt_len=8)
    async with OpenAITestServer() as srv:
        (level,) = await run_levels(_target(srv.base_url, stream=False), requests,
                                    _plan(parallel=[16], number=None, duration_s=1.0, rate=40.0, warmup=0), {})
    assert 20 <= level.stats["completed"] <= 65  # ~40 arrivals in one second
    assert level.stats["request_rate"] == 40.0


async def test_failures_are_counted_with_their_texts() -> None:
    requests = build_requests("random", 4, path=None, seed=1, min_prompt_len=4, max_prompt_len=8)
    async with OpenAITestServer(TestServerConfig(stream_cut_after=3)) as srv:
        (cut,) = await run_levels(_target(srv.base_url), requests, _plan(number=4, warmup=0), {})
    assert cut.stats["failed"] == 4 and "stream closed before [DONE]" in next(iter(cut.stats["errors"]))
    async with OpenAITestServer(TestServerConfig(require_api_key="k")) as srv:
        (denied,) = await run_levels(_target(srv.base_url), requests, _plan(number=3, warmup=0), {})
        (allowed,) = await run_levels(_target(srv.base_url), requests, _plan(number=3, warmup=0),
                                      {"Authorization": "Bearer k"})
    assert denied.stats["failed"] == 3 and "HTTP 401" in next(iter(denied.stats["errors"]))
    assert allowed.stats["completed"] == 3


def test_dataset_formats(tmp_path: Path) -> None:
    (tmp_path / "lines.txt").write_text("first prompt\n\nsecond prompt\n")
    (tmp_path / "qa.jsonl").write_text('{"question": "q1"}\n{"question": "q2"}\n')
    (tmp_path / "chat.jsonl").write_text('{"messages": [{"role": "system", "content": "s"}, '
                                         '{"role": "user", "content": "u"}]}\n')
    (tmp_path / "sharegpt.json").write_text(json.dumps([
        {"conversations": [{"from": "human", "value": "hello"}, {"from": "gpt", "value": "hi"}]},
        {"conversations": [{"from": "gpt", "value": "no human turn"}]}]))
    kw = dict(seed=0, min_prompt_len=1, max_prompt_len=2)
    assert sorted(r.prompt for r in build_requests("line_by_line", 1, path=tmp_path / "lines.txt", **kw)) == \
        ["first prompt", "second prompt"]
    assert sorted(r.prompt for r in build_requests("openqa", 1, path=tmp_path / "qa.jsonl", **kw)) == ["q1", "q2"]
    (chat,) = build_requests("custom", 1, path=tmp_path / "chat.jsonl", **kw)
    assert [m["role"] for m in chat.messages] == ["system", "user"]
    assert [r.prompt for r in build_requests("sharegpt", 1, path=tmp_path / "sharegpt.json", **kw)] == ["hello"]
    rnd = build_requests("random", 20, path=None, seed=3, min_prompt_len=5, max_prompt_len=9)
    assert all(5 <= len(r.prompt.split()) <= 9 for r in rnd)
    assert [r.prompt for r in rnd] == [r.prompt for r in build_requests("random", 20, path=None, seed=3,
                                                                         min_prompt_len=5, max_prompt_len=9)]


def _perf_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gage_eval", "perf", *args], capture_output=True, text=True,
                          timeout=60, env=_env(COLUMNS="120"))


def _env(**extra: str) -> dict[str, str]:
    """A bare environment, keeping PYTHONPATH so the subprocess runs the code under test."""
    import os

    keep = {k: os.environ[k] for k in ("PYTHONPATH",) if k in os.environ}
    return {"PATH": "/usr/bin:/bin", **keep, **extra}


def test_cli_sweep_writes_json_jsonl_and_html(tmp_path: Path) -> None:
    from gage_eval.testing.server import start_server_process

    with start_server_process(ttft_ms=20, itl_ms=2) as (_, url):
        proc = _perf_cli("--url", f"{url}/chat/completions", "--model", "m", "--parallel", "1", "4", "--number", "8",
                         "--max-tokens", "8", "--output-dir", str(tmp_path), "--run-id", "p")
    assert proc.returncode == 0, proc.stderr
    assert "parallel 1" in proc.stdout and "parallel 4" in proc.stdout and "Mean TTFT (ms)" in proc.stdout
    perf = json.loads((tmp_path / "p" / "perf.json").read_text())
    assert [lvl["max_concurrency"] for lvl in perf["levels"]] == [1, 4]
    assert sum(1 for _ in (tmp_path / "p" / "perf_requests.jsonl").open()) == 16
    # One summary table across the levels at the end, after the per-level tables, one row per level.
    tail = proc.stdout[proc.stdout.index("gage perf summary (all levels)"):]
    assert proc.stdout.index("parallel 4") < proc.stdout.index("gage perf summary")
    header = next(line for line in tail.splitlines() if "req/s" in line)
    assert "mean TTFT ms" in header and "p99 E2EL ms" in header
    rows = [line.split("│")[1:-1] for line in tail.splitlines() if line.startswith("│")]
    assert [(int(r[0]), int(r[1])) for r in rows] == [(1, 8), (4, 8)]
    for row, level in zip(rows, perf["levels"]):
        assert float(row[3].replace(",", "")) == pytest.approx(level["request_throughput"], abs=0.006)
    html = (tmp_path / "p" / "perf_report.html").read_text()
    assert "Request throughput vs parallel level" in html and "<script" not in html and "<link" not in html
    assert len(html) < 200_000  # styled and self-contained, no plotly.js


def test_cli_unreachable_url_is_a_clear_error_not_a_hang(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = _perf_cli("--url", f"http://127.0.0.1:{port}/v1/chat/completions", "--model", "m", "--number", "2",
                     "--output-dir", str(tmp_path))
    # A run failure (exit 1), not a config error; the reason class and its fix, as `gage run` reports it.
    assert proc.returncode == 1 and "connection refused" in proc.stderr and "Traceback" not in proc.stderr
    assert "fix: start the model server" in proc.stderr


def test_cli_non_json_replies_are_counted_failures(tmp_path: Path) -> None:
    from gage_eval.testing.server import start_server_process

    with start_server_process() as (_, url):  # /health is not a completions endpoint: 405 text replies
        checked = _perf_cli("--url", url.replace("/v1", "/health"), "--model", "m", "--number", "3",
                            "--no-stream", "--output-dir", str(tmp_path), "--run-id", "checked")
        proc = _perf_cli("--url", url.replace("/v1", "/health"), "--model", "m", "--number", "3", "--no-stream",
                         "--output-dir", str(tmp_path), "--run-id", "bad", "--no-preflight")
    # The pre-flight stops at once with the reason; without it every request is a counted failure.
    assert checked.returncode == 1 and "non-JSON reply" in checked.stderr and "Traceback" not in checked.stderr
    assert not (tmp_path / "checked").exists()
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    perf = json.loads((tmp_path / "bad" / "perf.json").read_text())
    assert perf["levels"][0]["failed"] == 3 and perf["levels"][0]["completed"] == 0


def test_html_report_shows_the_plots_in_chromium(tmp_path: Path) -> None:
    from gage_eval.testing.server import start_server_process
    from tests.browser import chromium_page

    with start_server_process(ttft_ms=10, itl_ms=1) as (_, url):
        proc = _perf_cli("--url", f"{url}/chat/completions", "--model", "m", "--parallel", "1", "2", "--number", "6",
                         "--max-tokens", "8", "--output-dir", str(tmp_path), "--run-id", "h")
    assert proc.returncode == 0, proc.stderr
    perf = json.loads((tmp_path / "h" / "perf.json").read_text())
    with chromium_page() as page:
        page.goto((tmp_path / "h" / "perf_report.html").as_uri())
        titles = page.locator("svg.gage-chart .chart-title").all_text_contents()
        assert titles[:4] == ["Request throughput vs parallel level", "Token throughput vs parallel level",
                              "Latency vs parallel level (TTFT, end to end)",
                              "Per-token latency vs parallel level (TPOT, ITL)"]
        # Request throughput has its own chart and y axis (req/s), not squashed under tokens/s.
        req = page.locator("#chart-request-throughput")
        assert req.locator("circle.point").count() == 2 and "req/s" in req.inner_text()
        ys = [float(c.get_attribute("cy")) for c in req.locator("circle.point").all()]
        assert abs(ys[0] - ys[1]) > 5 or perf["levels"][0]["request_throughput"] == perf["levels"][1]["request_throughput"]
        tips = req.locator("circle.point title").all_text_contents()
        assert f"{perf['levels'][0]['request_throughput']:.4g}" in tips[0]
        assert page.locator("#chart-token-throughput circle.point").count() == 4
        assert page.locator("#levels tbody tr").count() == 2  # the summary table: two levels
        # Styled like report.html: its stylesheet, cards and grid tables.
        assert page.locator("section.card").count() >= 3
        assert page.evaluate("getComputedStyle(document.querySelector('section.card')).borderRadius") == "8px"
        box = req.locator("svg").bounding_box()
        assert box and box["width"] > 250 and box["height"] > 100
        page.screenshot(path=str(tmp_path / "perf_report.png"), full_page=True)


def test_perf_piped_into_head_still_writes_its_files(tmp_path: Path) -> None:
    """`gage perf ... | head -3`: a real shell pipe; head exits early, perf finishes and writes its outputs."""
    import shlex

    from gage_eval.testing.server import start_server_process

    with start_server_process(ttft_ms=5, itl_ms=1) as (_, url):
        cmd = " ".join(shlex.quote(a) for a in [
            sys.executable, "-m", "gage_eval", "perf", "--url", f"{url}/chat/completions", "--model", "m",
            "--parallel", "1", "2", "4", "--number", "8", "--max-tokens", "8", "--output-dir", str(tmp_path),
            "--run-id", "piped"])
        proc = subprocess.run(["bash", "-c", f"set -o pipefail; {cmd} 2>{tmp_path / 'err.txt'} | head -3"],
                              capture_output=True, text=True, timeout=120, env=_env())
    err = (tmp_path / "err.txt").read_text()
    assert len(proc.stdout.splitlines()) == 3
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err, err
    assert proc.returncode == 0, err  # pipefail: perf itself exited 0
    perf = json.loads((tmp_path / "piped" / "perf.json").read_text())
    assert [lvl["max_concurrency"] for lvl in perf["levels"]] == [1, 2, 4]  # every level, after head had gone
    assert sum(1 for _ in (tmp_path / "piped" / "perf_requests.jsonl").open()) == 24
    assert "Request throughput vs parallel level" in (tmp_path / "piped" / "perf_report.html").read_text()

"""`gage view` in Chromium: run list, comparisons with paired significance, leaderboard; never a 500.

report.html itself and live run pages are tested in test_report_standalone.py and test_view_live.py."""
from __future__ import annotations

import socket
from pathlib import Path

import pytest

import gage_eval
from gage_eval.report.compare import compare_runs, mcnemar_exact, paired_bootstrap
from gage_eval.view.app import create_app
from tests.uvicorn_thread import UvicornThread
from tests.browser import chromium_page
from tests.conftest import pipeline, write_jsonl


def _run(tmp_path: Path, run_id: str, wrong_every: int, n: int = 60) -> Path:
    """An echo run over two tasks where every `wrong_every`-th label differs from the echo."""
    data = write_jsonl(tmp_path / f"{run_id}.jsonl", [
        {"id": f"s{i}", "prompt": f"p{i}", "label": f"p{i}" if i % wrong_every else "x"} for i in range(n)])
    cfg = pipeline(data, metrics=["exact_match", "latency"],
                   tasks=[{"task_id": "alpha", "dataset_id": "qa", "max_samples": n // 2},
                          {"task_id": "beta", "dataset_id": "qa"}])
    gage_eval.run(cfg, output_dir=tmp_path / "runs", run_id=run_id, progress="off")
    return tmp_path / "runs" / run_id


def test_mcnemar_and_bootstrap() -> None:
    from scipy.stats import binomtest

    assert mcnemar_exact(12, 2) == pytest.approx(binomtest(12, 14, 0.5).pvalue)
    assert mcnemar_exact(0, 0) == 1.0
    import numpy as np

    rng = np.random.default_rng(1)
    assert paired_bootstrap(rng.normal(1.0, 1.0, 200)) < 0.01
    assert paired_bootstrap(rng.normal(0.0, 1.0, 200)) > 0.05


def test_compare_runs_pairs_shared_samples(tmp_path: Path) -> None:
    a, b = _run(tmp_path, "a", wrong_every=2), _run(tmp_path, "b", wrong_every=30)
    comps = {(c.task_id, c.metric): c for c in compare_runs(a, b)}
    em = comps[("beta", "exact_match")]
    assert em.test == "mcnemar-exact" and em.n_paired == 60 and em.significant
    assert em.diff == pytest.approx((58 - 30) / 60) and len(em.b_better) == 28 and em.a_better == []
    assert comps[("alpha", "latency")].test == "paired-bootstrap"


class _Server(UvicornThread):
    def __init__(self, runs_dir: Path) -> None:
        super().__init__(create_app(runs_dir))


def test_view_lists_compares_and_ranks_runs(tmp_path: Path) -> None:
    _run(tmp_path, "model-checkpoint-100", wrong_every=2)
    _run(tmp_path, "model-checkpoint-200", wrong_every=30)
    _run(tmp_path, "model-checkpoint-300", wrong_every=5)
    with _Server(tmp_path / "runs") as base, chromium_page() as page:
        page.goto(base + "/")
        assert page.locator("#runs tr").count() == 4
        # Each metric is named with its task: two tasks share metric names and differ in value.
        cell = page.locator("#runs tr:has(a:text-is('model-checkpoint-100')) td.metrics").inner_text()
        assert "alpha / exact_match 0.5000" in cell and "beta / exact_match 0.5000" in cell
        assert "alpha / latency (ms)" in cell
        page.check("input[value='model-checkpoint-100']")
        page.check("input[value='model-checkpoint-200']")
        page.click("#compare")
        page.wait_for_selector("table.comparison")
        row = page.locator("table.comparison tr[data-task='beta'][data-metric='exact_match']")
        assert row.locator(".significance").inner_text() == "significant"
        assert float(row.locator(".p").inner_text()) < 0.05
        page.screenshot(path=str(tmp_path / "compare.png"), full_page=True)
        page.goto(base + "/leaderboard?metric=beta / exact_match")
        ranks = page.locator("#leaderboard td:nth-child(2)").all_inner_texts()
        assert ranks == ["model-checkpoint-200", "model-checkpoint-300", "model-checkpoint-100"]
        assert page.locator("#step-chart svg circle.point").count() == 3  # score vs checkpoint step, drawn
        options = page.locator("select[name='metric'] option").all_inner_texts()
        assert "alpha / exact_match" in options and "beta / latency (ms)" in options
        assert page.locator("select[name='metric']").input_value() == "beta / exact_match"


def test_view_never_shows_a_500(tmp_path: Path) -> None:
    import urllib.error
    import urllib.request

    run_dir = _run(tmp_path, "ok", wrong_every=3)
    (run_dir / "summary.json").write_text("{not json")
    with _Server(tmp_path / "runs") as base:
        for url, status in ((f"{base}/runs/ok", 200), (f"{base}/live/ok", 200), (f"{base}/runs/ok/report.html", 200),
                            (f"{base}/", 200),
                            (f"{base}/runs/nope", 404), (f"{base}/runs/..", 404), (f"{base}/compare?runs=ok", 200),
                            (f"{base}/compare?runs=ok&runs=nope", 404), (f"{base}/leaderboard", 200)):
            try:
                code = urllib.request.urlopen(url).status
                body = ""
            except urllib.error.HTTPError as exc:
                code, body = exc.code, exc.read().decode()
            assert code == status, (url, code, body)
        text = urllib.request.urlopen(f"{base}/runs/ok/report.html").read().decode()
        assert "summary.json" in text and "ok" in text


async def test_gage_run_serves_prometheus_metrics_while_running(tmp_path: Path) -> None:
    import asyncio

    import aiohttp

    data = write_jsonl(tmp_path / "d.jsonl", [{"id": f"s{i}", "prompt": f"p{i}", "label": f"p{i}"} for i in range(200)])
    cfg = pipeline(data, backends=[{"backend_id": "echo", "type": "dummy", "config": {"latency_ms": 20}}],
                   execution={"concurrency": 4})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = asyncio.ensure_future(gage_eval.arun(cfg, output_dir=tmp_path / "runs", run_id="prom", progress="off",
                                               metrics_port=port))
    text = ""
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            await asyncio.sleep(0.05)
            try:
                async with session.get(f"http://127.0.0.1:{port}/metrics") as resp:
                    text = await resp.text()
            except aiohttp.ClientError:
                continue
            done = [line for line in text.splitlines() if line.startswith("gage_samples_done_total")]
            # Series are created at 0 when the task starts: wait for a sample to be counted, not for the name.
            if done and float(done[0].split()[-1]) > 0 and "gage_request_latency_seconds_bucket" in text:
                break
    result = await run
    assert result.status == "completed"
    done = [line for line in text.splitlines() if line.startswith("gage_samples_done_total")]
    assert done and 0 < float(done[0].split()[-1]) <= 200
    assert "gage_queue_depth" in text and 'gage_tokens_total{backend="echo"' in text


def test_gage_report_and_compare_cli(tmp_path: Path) -> None:
    import subprocess
    import sys

    a, b = _run(tmp_path, "a", wrong_every=2), _run(tmp_path, "b", wrong_every=30)
    (a / "report.html").unlink()
    import os

    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "200", **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"}}
    proc = subprocess.run([sys.executable, "-m", "gage_eval", "report", str(a)], capture_output=True, text=True,
                          env=env)
    assert proc.returncode == 0 and (a / "report.html").stat().st_size > 10_000, proc.stderr
    proc = subprocess.run([sys.executable, "-m", "gage_eval", "compare", str(a), str(b)], capture_output=True,
                          text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    beta = next(line for line in proc.stdout.splitlines() if "beta" in line and "exact_match" in line)
    assert "0.5000" in beta and "0.9667" in beta and "yes" in beta and "mcnemar" in beta
    bad = subprocess.run([sys.executable, "-m", "gage_eval", "compare", str(a), str(tmp_path)], capture_output=True,
                         text=True, env=env)
    assert bad.returncode == 2 and "not a run directory" in bad.stderr and "Traceback" not in bad.stderr


def test_static_report_lists_a_bounded_number_of_rows_but_counts_all(tmp_path: Path) -> None:
    from gage_eval.report.samples import SampleScanner

    run_dir = _run(tmp_path, "big", wrong_every=3)
    scan = SampleScanner(run_dir / "samples.jsonl", max_rows=25)
    scan.poll()
    assert len(scan.rows) == 25 and scan.omitted_rows == 65
    partial = scan.partial_summary()
    assert partial["sample_count"] == 90
    assert sum(t["metrics"]["exact_match"]["count"] for t in partial["tasks"]) == 90
    assert any("first 25 samples" in w for w in scan.warnings())

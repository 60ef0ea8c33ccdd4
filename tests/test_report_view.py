"""report.html from disk and `gage view` in Chromium; tolerant reading of partial runs; paired comparisons."""
from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

import gage_eval
from gage_eval.report.compare import compare_runs, mcnemar_exact, paired_bootstrap
from gage_eval.report.html import write_report
from gage_eval.view.app import create_app
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


def test_every_run_writes_a_report_whose_table_matches_summary(tmp_path: Path) -> None:
    run_dir = _run(tmp_path, "r1", wrong_every=3)
    summary = json.loads((run_dir / "summary.json").read_text())
    with chromium_page() as page:
        page.goto((run_dir / "report.html").as_uri())
        page.wait_for_selector("#sample-rows tr")
        for task in summary["tasks"]:
            for name, agg in task["metrics"].items():
                row = page.locator(f"#metrics-table tr[data-task='{task['task_id']}'][data-metric='{name}']")
                assert row.locator(".value").inner_text() == f"{agg['value']:.4f}"
                assert row.locator(".count").inner_text() == str(agg["count"])
        assert page.locator("#match-count").inner_text() == "90 of 90 samples"
        assert page.locator("#sample-rows tr").count() == 50  # paginated
        page.select_option("#f-correct", "incorrect")
        assert page.locator("#match-count").inner_text() == "30 of 90 samples"
        page.select_option("#f-task", "alpha")
        assert page.locator("#match-count").inner_text() == "10 of 90 samples"
        assert set(page.locator("#sample-rows td:nth-child(3)").all_inner_texts()) == {"incorrect"}
        page.click("#sample-rows tr >> nth=0")
        assert "model_output" in page.locator("#detail").inner_text()
        page.wait_for_selector("#chart-scores .main-svg")
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert "<script src=" not in (run_dir / "report.html").read_text()  # opens offline


def test_partial_run_shows_what_there_is_and_what_is_missing(tmp_path: Path) -> None:
    run_dir = _run(tmp_path, "r2", wrong_every=4)
    (run_dir / "summary.json").unlink()
    with (run_dir / "samples.jsonl").open("ab") as fh:
        fh.write(b'{"task_id": "alpha", "sample_id": "torn", "sta')
    write_report(run_dir)
    text = (run_dir / "report.html").read_text()
    assert "summary.json is missing" in text and "is incomplete" in text
    with chromium_page() as page:
        page.goto((run_dir / "report.html").as_uri())
        page.wait_for_selector("#sample-rows tr")
        assert page.locator("#match-count").inner_text() == "90 of 90 samples"
        assert "summary.json is missing" in page.locator("#problems").inner_text()


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


class _Server:
    def __init__(self, runs_dir: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(create_app(runs_dir), host="127.0.0.1", port=self.port,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def test_view_lists_compares_and_ranks_runs(tmp_path: Path) -> None:
    _run(tmp_path, "model-checkpoint-100", wrong_every=2)
    _run(tmp_path, "model-checkpoint-200", wrong_every=30)
    _run(tmp_path, "model-checkpoint-300", wrong_every=5)
    with _Server(tmp_path / "runs") as base, chromium_page() as page:
        page.goto(base + "/")
        assert page.locator("#runs tr").count() == 4
        page.check("input[value='model-checkpoint-100']")
        page.check("input[value='model-checkpoint-200']")
        page.click("#compare")
        page.wait_for_selector("table.comparison")
        row = page.locator("table.comparison tr[data-task='beta'][data-metric='exact_match']")
        assert row.locator(".significance").inner_text() == "significant"
        assert float(row.locator(".p").inner_text()) < 0.05
        page.screenshot(path=str(tmp_path / "compare.png"), full_page=True)
        page.goto(base + "/leaderboard?metric=exact_match")
        ranks = page.locator("#leaderboard td:nth-child(2)").all_inner_texts()
        assert ranks == ["model-checkpoint-200", "model-checkpoint-300", "model-checkpoint-100"]
        page.wait_for_selector("#step-chart .main-svg")


def test_view_streams_a_run_in_progress(tmp_path: Path) -> None:
    run_dir = _run(tmp_path, "live", wrong_every=3)
    lines = (run_dir / "samples.jsonl").read_text().splitlines(keepends=True)
    (run_dir / "summary.json").unlink()
    (run_dir / "samples.jsonl").write_text("".join(lines[:10]))
    with _Server(tmp_path / "runs") as base, chromium_page() as page:
        page.goto(f"{base}/runs/live")
        page.wait_for_function("document.getElementById('match-count').textContent.startsWith('10 of 10')")
        with (run_dir / "samples.jsonl").open("a") as fh:
            fh.write("".join(lines[10:25]))
        page.wait_for_function("document.getElementById('match-count').textContent.startsWith('25 of 25')",
                               timeout=10_000)


def test_view_never_shows_a_500(tmp_path: Path) -> None:
    import urllib.error
    import urllib.request

    run_dir = _run(tmp_path, "ok", wrong_every=3)
    (run_dir / "summary.json").write_text("{not json")
    with _Server(tmp_path / "runs") as base:
        for url, status in ((f"{base}/runs/ok", 200), (f"{base}/runs/ok/report.html", 200), (f"{base}/", 200),
                            (f"{base}/runs/nope", 404), (f"{base}/runs/..", 404), (f"{base}/compare?runs=ok", 200),
                            (f"{base}/compare?runs=ok&runs=nope", 404), (f"{base}/leaderboard", 200)):
            try:
                code = urllib.request.urlopen(url).status
                body = ""
            except urllib.error.HTTPError as exc:
                code, body = exc.code, exc.read().decode()
            assert code == status, (url, code, body)
        text = urllib.request.urlopen(f"{base}/runs/ok").read().decode()
        assert "summary.json is not valid JSON" in text

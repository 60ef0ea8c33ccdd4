"""report.html stays small (inline SVG charts, no plotly.js), charts render in Chromium, and the live page of a
run in progress shows one sample count and no warning banners."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from gage_eval.report import svg
from gage_eval.report.charts import failures_by_reason, task_scores
from tests.browser import chromium_page
from tests.conftest import pipeline, write_jsonl
from tests.test_report_standalone import XSS

ROOT = Path(__file__).resolve().parents[1]


def test_report_of_a_20_sample_run_is_under_1_mb_and_its_charts_render(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "gage_eval", "run", "config/run_configs/demo_echo_run_1.yaml",
                           "--output-dir", str(tmp_path), "--run-id", "demo", "--progress", "off"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = tmp_path / "demo" / "report.html"
    size = report.stat().st_size
    print(f"\nreport.html of a 20-sample run: {size:,} bytes ({size / 1024:.1f} kB)")
    assert size < 1_000_000
    html = report.read_text()
    assert "<script src=" not in html and "<link" not in html  # still self-contained
    with chromium_page() as page:
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(report.as_uri())
        page.wait_for_selector("body[data-samples-ready='1']")
        assert page.inner_text("#sample-count") == "20 of 20 samples"
        bar = page.locator("#chart-task-scores rect.bar").first
        assert bar.bounding_box()["height"] > 50  # exact_match 0.8 of a ~200 px tall plot area
        assert "exact_match: 0.8000" in bar.locator("title").text_content()
        assert page.locator("#chart-latency rect.bar").count() == 40
        assert "ms" in page.inner_text("#chart-latency")
        assert "latency (ms)" in page.inner_text("#metric-table")
        assert errors == []


def test_chart_text_is_escaped_and_intervals_stay_in_the_plot() -> None:
    tasks = [{"task_id": XSS, "metrics": {"acc": {"value": 1.0, "ci95": [0.44, 1.0]}}},
             {"task_id": "b", "metrics": {"acc": {"value": 0.0, "ci95": [0.0, 0.56]}}}]
    chart = str(task_scores(tasks))
    assert "<script>" not in chart and "onerror=" not in chart.replace("onerror=window", "")
    assert "&lt;/script&gt;" in chart
    reasons = str(failures_by_reason({"inference:BackendError<b>": 3, "judge:Timeout": 1}))
    assert "<b>" not in reasons and reasons.count('class="bar"') == 2
    frame = svg.Frame("t", 0, 1)
    assert frame.y(0) == pytest.approx(svg._TOP + frame.plot_h) and frame.y(1) == pytest.approx(svg._TOP)


def test_live_page_of_a_real_run_in_progress_shows_one_count_and_no_warnings(tmp_path: Path) -> None:
    from tests.test_view_live import _Server

    data = write_jsonl(tmp_path / "qa.jsonl", [{"id": f"q{i}", "prompt": f"say {i}", "label": f"say {i}" if i % 4
                                                else "other"} for i in range(600)])
    cfg = pipeline(data, metrics=["exact_match", "latency"], execution={"concurrency": 2},
                   backends=[{"backend_id": "echo", "type": "dummy", "config": {"mode": "echo", "latency_ms": 100}}])
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    runs = tmp_path / "runs"
    proc = subprocess.Popen([sys.executable, "-m", "gage_eval", "run", str(tmp_path / "cfg.yaml"), "--output-dir",
                             str(runs), "--run-id", "going", "--progress", "off"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    snapshot = """() => ({list: document.getElementById('sample-count').textContent,
        meta: document.getElementById('meta-samples').textContent,
        n: document.querySelector("#metric-table tr[data-metric='exact_match'] td.count").textContent,
        live: document.getElementById('live-status').textContent})"""
    try:
        deadline = time.monotonic() + 20
        while not (runs / "going" / "samples.jsonl").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # a few samples in, so the metric table has its rows
        with _Server(runs) as base, chromium_page() as page:
            page.goto(f"{base}/live/going")
            page.wait_for_selector("body[data-samples-ready='1']")
            assert page.inner_text("#run-status") == "running"
            assert page.locator("#notices .notice.warn").count() == 0  # nothing is wrong with a running run
            assert page.locator("#missing").count() == 0
            assert "run in progress" in page.inner_text("#notices")
            seen = set()
            while proc.poll() is None and len(seen) < 3:
                page.wait_for_timeout(400)
                snap = page.evaluate(snapshot)
                if "live:" not in snap["live"]:
                    continue
                total = int(snap["list"].split(" of ")[1].split()[0])
                # Every count on the page is the same number: sample list, run card, metric n, live line.
                assert snap["meta"] == str(total) and snap["n"] == str(total), snap
                assert f"live: {total} samples" in snap["live"], snap
                seen.add(total)
            assert len(seen) >= 2, seen  # the counts moved while the run went on
            assert page.locator("#notices .notice.warn").count() == 0
    finally:
        # Long enough (~30 s) to be still running under any machine load; stopped here once seen.
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)  # exit code of an interrupted run: see test_interrupts.py
        assert "Traceback" not in (proc.stderr.read().decode() if proc.stderr else "")

"""Human review in Chromium: a person judges pairs on the local page; the run can be stopped and resumed."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import gage_eval

from .browser import chromium_page
from .conftest import read_jsonl, write_jsonl
from .test_interrupts import _terminal_sigint


def _run(tmp_path: Path, name: str, answer: str) -> Path:
    data = write_jsonl(tmp_path / "q.jsonl", [{"id": f"q{i}", "prompt": f"question {i}"} for i in range(4)])
    cfg = {"kind": "PipelineConfig", "datasets": [{"dataset_id": "qa", "loader": "jsonl",
                                                   "params": {"path": str(data)}}],
           "backends": [{"backend_id": "m", "type": "dummy", "config": {"mode": "cycle", "responses": [answer]}}],
           "role_adapters": [{"adapter_id": "dut", "role_type": "dut_model", "backend_id": "m"}]}
    return gage_eval.run(cfg, output_dir=tmp_path / "runs", run_id=name, progress="off").run_dir


def _start(tmp_path: Path, runs: dict[str, Path]) -> tuple[subprocess.Popen, str]:
    url_file = tmp_path / "arena" / "human" / "human_review.url"
    url_file.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "gage_eval", "arena", *[f"--run={n}={p}" for n, p in runs.items()],
           "--mode", "pairwise-all", "--human", "--port", "0", "--output-dir", str(tmp_path / "arena"),
           "--run-id", "human", "--bootstrap-rounds", "50", "--progress", "plain", "--concurrency", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_terminal_sigint)
    deadline = time.monotonic() + 60
    while not url_file.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the review page never started"
        time.sleep(0.05)
    return proc, url_file.read_text().strip()


def _judge_visible_pair(page: object, prefer: str) -> str:
    """Click the button of the answer that reads `prefer`; returns the pair id judged."""
    page.wait_for_function("current !== null && !document.getElementById('pair').hidden",  # type: ignore[attr-defined]
                           timeout=20_000)
    pair = page.evaluate("current")  # type: ignore[attr-defined]
    assert page.inner_text("#answer-a") == pair["answer_a"]  # type: ignore[attr-defined]
    page.click("#vote-a" if pair["answer_a"] == prefer else "#vote-b")  # type: ignore[attr-defined]
    page.wait_for_function(f"!current || current.pair_id !== {json.dumps(pair['pair_id'])}",  # type: ignore[attr-defined]
                           timeout=20_000)
    return pair["pair_id"]


def test_human_page_judges_pairs_stops_and_resumes(tmp_path: Path) -> None:
    runs = {"polite": _run(tmp_path, "polite", "Thank you, here is the answer."),
            "rude": _run(tmp_path, "rude", "Figure it out yourself.")}
    samples = tmp_path / "arena" / "human" / "samples.jsonl"
    proc, url = _start(tmp_path, runs)
    try:
        with chromium_page() as page:
            page.goto(url)  # type: ignore[attr-defined]
            assert "which answer is better" in page.inner_text("header")  # type: ignore[attr-defined]
            first = [_judge_visible_pair(page, "Thank you, here is the answer.") for _ in range(2)]
        deadline = time.monotonic() + 20
        while not (samples.exists() and len(read_jsonl(samples)) >= 2):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    done = {r["sample_id"]: r for r in read_jsonl(samples)}
    assert set(first) <= set(done)
    # the verdict is stored for the models, whatever order the page showed them in
    assert all(r["judge_output"]["winner"] == ("model_a" if r["judge_output"]["model_a"] == "polite" else "model_b")
               for r in done.values())

    proc, url = _start(tmp_path, runs)
    try:
        with chromium_page() as page:
            page.goto(url)  # type: ignore[attr-defined]
            rest = [_judge_visible_pair(page, "Thank you, here is the answer.") for _ in range(4 - len(done))]
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert not set(rest) & set(done)  # judged pairs were not served again
    summary = json.loads((tmp_path / "arena" / "human" / "summary.json").read_text())
    board = summary["summary_generators"]["arena_leaderboard"]
    assert board["battles"] == 4
    assert [r["model"] for r in board["leaderboard"]] == ["polite", "rude"]
    shown_orders = {r["judge_output"]["verdicts"][0]["order"] for r in read_jsonl(samples)}
    assert shown_orders  # recorded for every verdict (position randomized per pair)

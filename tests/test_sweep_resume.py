"""`gage sweep` resumes: SIGKILL during the second checkpoint, rerun, the first checkpoint is not redone and the
results equal an uninterrupted sweep's. A checkpoint whose server fails is recorded with its log and skipped.
The model servers are real subprocesses (a command template) answering deterministically."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from gage_eval.testing.server import TestServerConfig, run_server_in_thread

from .sweep_fixtures import judge_script, write_datasets

SERVER = Path(__file__).with_name("sweep_model_server.py")


def _checkpoints(root: Path, names: list[str]) -> Path:
    for name in names:
        folder = root / name
        folder.mkdir(parents=True)
        (folder / "config.json").write_text("{}")
        (folder / "model.safetensors").write_bytes(b"weights")
    return root


def _command(run: Path, out: Path, data: dict[str, Any], judge_url: str, latency_ms: int = 0) -> list[str]:
    serve = f"{sys.executable} {SERVER} {{model_path}} {{port}} {latency_ms}"
    return [sys.executable, "-m", "gage_eval", "sweep", str(run), "--serve", serve, "--port", "0",
            "--benchmarks", "ifeval,truthfulqa,alpacaeval", "--dataset-args", json.dumps(data),
            "--judge-api-base", judge_url, "--judge-model", "judge", "--output-dir", str(out),
            "--concurrency", "2", "--progress", "plain"]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("resume")
    run = _checkpoints(root / "run", ["checkpoint-100", "checkpoint-200", "checkpoint-300"])
    data = write_datasets(root / "data", n=6, n_alpaca=12)
    with run_server_in_thread(TestServerConfig(script=judge_script)) as judge:
        yield root, run, data, judge.base_url


def _server_starts(log: Path) -> int:
    return log.read_text().count("$ ") if log.exists() else 0


def test_sigkill_during_second_checkpoint_then_rerun(setup: Any) -> None:
    root, run, data, judge_url = setup
    whole = subprocess.run(_command(run, root / "whole", data, judge_url, latency_ms=150), capture_output=True,
                           text=True, timeout=300)
    assert whole.returncode == 0, whole.stderr[-3000:]

    out = root / "killed"
    proc = subprocess.Popen(_command(run, out, data, judge_url, latency_ms=150), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    second = out / "generations" / "checkpoint-200__truthfulqa" / "samples.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (second.exists() and second.read_bytes().count(b"\n") >= 2):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert second.exists(), "the sweep never reached the second checkpoint"
    first_files = {p: p.stat().st_mtime_ns for p in (out / "generations").glob("checkpoint-100__*/samples.jsonl")}
    assert len(first_files) == 3
    assert not (out / "runs").exists() or not list((out / "runs").glob("checkpoint-300__*"))

    rerun = subprocess.run(_command(run, out, data, judge_url, latency_ms=150), capture_output=True, text=True,
                           timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert {p: p.stat().st_mtime_ns for p in first_files} == first_files  # checkpoint-100 not regenerated
    assert _server_starts(out / "logs" / "server-checkpoint-100.log") == 1
    assert _server_starts(out / "logs" / "server-checkpoint-200.log") == 2  # killed, then resumed
    state = json.loads((out / "sweep.json").read_text())
    assert state["servers_started"] == 2
    assert "checkpoint-100] answers exist for every benchmark: no server started" in rerun.stderr
    # sample by sample: the killed run kept what it had finished
    resumed = json.loads((out / "generations" / "checkpoint-200__truthfulqa" / "summary.json").read_text())
    assert sum(t["resumed_samples"] for t in resumed["tasks"]) >= 2
    assert (out / "leaderboard.csv").read_text() == (root / "whole" / "leaderboard.csv").read_text()
    for name in ("checkpoint-100", "checkpoint-200", "checkpoint-300"):
        for bench in ("ifeval", "truthfulqa", "alpacaeval"):
            a = json.loads((out / "runs" / f"{name}__{bench}" / "summary.json").read_text())
            b = json.loads((root / "whole" / "runs" / f"{name}__{bench}" / "summary.json").read_text())
            assert a["metrics"] == b["metrics"]


def test_failed_checkpoint_server_is_recorded_and_the_sweep_goes_on(setup: Any) -> None:
    root, _, data, judge_url = setup
    run = _checkpoints(root / "run_broken", ["step-10", "step-20-broken", "step-30"])
    out = root / "broken_out"
    done = subprocess.run(_command(run, out, data, judge_url), capture_output=True, text=True, timeout=300)
    assert done.returncode == 3, done.stderr[-3000:]  # finished, with a failed checkpoint
    state = json.loads((out / "sweep.json").read_text())
    broken = state["models"]["step-20-broken"]
    assert broken["status"] == "server_failed" and "exited with code 3" in broken["error"]
    assert "cannot load weights" in broken["log_tail"]
    assert state["models"]["step-30"]["status"] == "ok"
    assert (out / "runs" / "step-30__ifeval" / "summary.json").exists()
    md = (out / "leaderboard.md").read_text()
    assert "| step-20-broken | 20 | server failed |" in md and "cannot load weights" in md
    assert "step-20-broken: server failed" in done.stderr

"""A killed or interrupted run keeps every finished sample and resumes to the same result."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import pipeline, read_jsonl, write_jsonl

N = 300


def _config(tmp_path: Path) -> Path:
    data = write_jsonl(tmp_path / "d.jsonl",
                       [{"id": f"s{i}", "prompt": f"p{i}", "label": f"p{i}" if i % 3 else "x"} for i in range(N)])
    cfg = pipeline(data, backends=[{"backend_id": "echo", "type": "dummy", "config": {"latency_ms": 10}}],
                   metrics=["exact_match"], execution={"concurrency": 4})
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _gage(*args: str) -> list[str]:
    return [sys.executable, "-m", "gage_eval", "run", *args, "--progress", "plain"]


def _wait_for_lines(path: Path, n: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= n:
            return
        time.sleep(0.02)
    raise AssertionError(f"{path} never reached {n} lines")


def _metrics(run_dir: Path) -> dict:
    summary = json.loads((run_dir / "summary.json").read_text())
    return {k: (v["value"], v["count"]) for k, v in summary["metrics"].items()}


def test_sigkill_then_resume_equals_uninterrupted_run(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    out = tmp_path / "runs"
    proc = subprocess.Popen(_gage(str(cfg), "--output-dir", str(out), "--run-id", "killed"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples = out / "killed" / "samples.jsonl"
    _wait_for_lines(samples, 40)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = {r["sample_id"] for r in read_jsonl(samples) if r}
    assert 40 <= len(done_before) < N

    subprocess.run(_gage(str(cfg), "--output-dir", str(out), "--run-id", "killed"), check=True,
                   capture_output=True)
    subprocess.run(_gage(str(cfg), "--output-dir", str(out), "--run-id", "clean"), check=True, capture_output=True)
    ids = [r["sample_id"] for r in read_jsonl(samples)]
    assert len(ids) == len(set(ids)) == N
    assert done_before <= set(ids)
    assert _metrics(out / "killed") == _metrics(out / "clean")


def _terminal_sigint() -> None:
    # Background jobs of non-interactive shells (CI) start with SIGINT ignored; a terminal's child does not.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_stops_cleanly_and_rerun_completes(tmp_path: Path, sig: signal.Signals) -> None:
    cfg = _config(tmp_path)
    out = tmp_path / "runs"
    proc = subprocess.Popen(_gage(str(cfg), "--output-dir", str(out), "--run-id", "int"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_terminal_sigint)
    _wait_for_lines(out / "int" / "samples.jsonl", 20)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "resume" in stderr
    summary = json.loads((out / "int" / "summary.json").read_text())
    assert summary["run"]["status"] == "interrupted"
    partial = len(read_jsonl(out / "int" / "samples.jsonl"))
    assert summary["sample_count"] == partial < N
    rerun = subprocess.run(_gage(str(cfg), "--output-dir", str(out), "--run-id", "int"), capture_output=True,
                           text=True, env={**os.environ})
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads((out / "int" / "summary.json").read_text())["sample_count"] == N

"""SIGTERM / Ctrl-C stop a local-checkpoint (`hf`) run within a few seconds, between batches, and the rerun resumes.

The run is a real `gage eval` subprocess on a tiny local Llama. It is started the way a background job of a
non-interactive shell (or a scheduler's wrapper) starts it, with SIGINT ignored: there the old SIGTERM path
(a simulated SIGINT) did nothing and the run went on to exit 0.
"""
from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from gage_eval.engine import stop
from gage_eval.errors import RunInterrupted

from .conftest import read_jsonl, write_jsonl
from .tiny_model import build_tiny_llama

pytest.importorskip("torch")

N = 40


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_llama(tmp_path_factory.mktemp("tiny"), 512)


@pytest.fixture
def clean_stop_flag() -> Iterator[None]:
    stop.reset()
    yield
    stop.reset()


def _gsm8k_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "test.jsonl", [{"question": f"Tom has {i} apples and buys {i + 1}. How many?",
                                                  "answer": f"{i} + {i + 1} = {2 * i + 1}\n#### {2 * i + 1}"}
                                                 for i in range(N)])


def _eval_cmd(model_dir: Path, data: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "gage_eval", "eval", "--model", str(model_dir), "--datasets", "gsm8k",
            "--dataset-args", json.dumps({"gsm8k": {"local_path": str(data), "few_shot_num": 0}}),
            "--eval-batch-size", "1", "--generation-config", "max_new_tokens=48",
            "--work-dir", str(out), "--run-id", "stopped", "--progress", "off"]


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as `cmd &` in a script starts it


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def test_sigterm_stops_a_local_checkpoint_run_between_batches_and_the_rerun_resumes(
        tmp_path: Path, model_dir: Path) -> None:
    data, out = _gsm8k_file(tmp_path), tmp_path / "runs"
    samples = out / "stopped" / "samples.jsonl"
    proc = subprocess.Popen(_eval_cmd(model_dir, data, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=_ignore_sigint)
    deadline = time.monotonic() + 300
    while _lines(samples) < 4:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run never wrote 4 samples"
        time.sleep(0.01)
    done_at_signal = _lines(samples)
    sent, sent_wall = time.monotonic(), time.time()
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    took = time.monotonic() - sent

    assert proc.returncode == RunInterrupted().exit_code, stderr  # Ctrl-C's status (130)
    assert "Traceback" not in stderr and "resume" in stderr
    events = read_jsonl(out / "stopped" / "events.jsonl")
    end = next(e for e in events if e["event"] == "run_end")
    stopped = datetime.fromisoformat(end["created_at"]).timestamp() - sent_wall
    # The run is over (summary written) within a few seconds; the process exit after it is interpreter and torch
    # teardown, which on this shared 2-core machine has taken up to ~15 s under load.
    assert stopped < 5, f"run_end {stopped:.1f} s after SIGTERM (process exit after {took:.1f} s)"
    assert took < 60
    kept = read_jsonl(samples)
    # Between batches: at most the batch that was finishing as the signal arrived is added (batch size 1, and
    # a generation cut short by the stop is dropped, never written).
    assert done_at_signal <= len(kept) <= done_at_signal + 2 < N
    assert all(r["status"] == "ok" and r["model_output"]["finish_reason"] == "length" for r in kept)
    summary = json.loads((out / "stopped" / "summary.json").read_text())
    assert summary["run"]["status"] == "interrupted" and summary["sample_count"] == len(kept)

    rerun = subprocess.run(_eval_cmd(model_dir, data, out), capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    task = json.loads((out / "stopped" / "summary.json").read_text())["tasks"][0]
    assert (task["resumed_samples"], task["new_samples"]) == (len(kept), N - len(kept))  # only the rest
    final = read_jsonl(samples)
    ids = [r["sample_id"] for r in final]
    assert len(ids) == len(set(ids)) == N
    before = {r["sample_id"]: r["model_output"]["answer"] for r in kept}
    assert {r["sample_id"]: r["model_output"]["answer"] for r in final if r["sample_id"] in before} == before


async def test_the_stop_flag_ends_a_long_generation_at_the_next_token_and_drops_it(
        model_dir: Path, clean_stop_flag: None) -> None:
    from gage_eval.backends.base import GenerationRequest
    from gage_eval.backends.hf import HFBackend

    backend = HFBackend.from_config({"model_path": str(model_dir), "device": "cpu", "batch_size": 1})
    request = GenerationRequest(prompt="Question: what is the river?\nAnswer:",
                                params={"max_tokens": 400, "temperature": 0})
    t0 = time.monotonic()
    full = await backend.generate(request)  # also loads the model, so the timing below is generation only
    assert full.usage["completion_tokens"] == 400
    t0 = time.monotonic()
    await backend.generate(request)
    full_s = time.monotonic() - t0

    task: asyncio.Task[Any] = asyncio.ensure_future(backend.generate(request))
    await asyncio.sleep(full_s * 0.2)
    stop.request()
    t1 = time.monotonic()
    with pytest.raises(asyncio.CancelledError):  # the cut-short text is never returned as an answer
        await task
    await backend.aclose()
    stopped_s = time.monotonic() - t1
    assert stopped_s < 0.5 * full_s, (stopped_s, full_s)
    # and no further batch starts while the flag is up
    with pytest.raises(asyncio.CancelledError):
        await backend.generate(request)
    assert backend.generate_calls == 3

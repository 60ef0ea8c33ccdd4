"""A killed agent run resumes at sample level: half-finished trajectories are redone, never mixed."""
from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import yaml

from gage_eval.testing.server import TestServerConfig, run_server_in_thread
from tests.agent_fixtures import agent_config, kv_agent, live_processes, write_kv_server
from tests.conftest import read_jsonl, write_jsonl
from tests.test_agent_e2e import _gage, _wait_gone


def test_sigkill_mid_run_then_resume_gives_the_same_summary(tmp_path: Path) -> None:
    server = write_kv_server(tmp_path)
    tasks = [{"id": f"s{i}", "prompt": f"store k{i} v{i}", "label": f"v{i}" if i % 3 else "no"} for i in range(8)]
    data = write_jsonl(tmp_path / "tasks.jsonl", tasks)
    out = tmp_path / "runs"
    with run_server_in_thread(TestServerConfig(script=kv_agent, latency_ms=80)) as srv:
        cfg = tmp_path / "agent.yaml"
        cfg.write_text(yaml.safe_dump(agent_config(data, server, srv.base_url,
                                                   execution={"concurrency": 2})))
        proc = subprocess.Popen(_gage(str(cfg), "--output-dir", str(out), "--run-id", "killed"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples = out / "killed" / "samples.jsonl"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (samples.exists() and samples.read_bytes().count(b"\n") >= 3):
            time.sleep(0.05)
        while time.monotonic() < deadline and not live_processes(str(server)):
            time.sleep(0.02)  # kill while samples are half-way, their MCP servers running
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        before = {r["sample_id"] for r in read_jsonl(samples)}
        assert 3 <= len(before) < len(tasks)
        assert _wait_gone(str(server)) == []  # the servers saw their stdin close and ended
        for run_id in ("killed", "clean"):
            done = subprocess.run(_gage(str(cfg), "--output-dir", str(out), "--run-id", run_id),
                                  capture_output=True, text=True, timeout=240)
            assert done.returncode == 0, done.stderr[-3000:]
    records = read_jsonl(samples)
    assert sorted(r["sample_id"] for r in records) == sorted(t["id"] for t in tasks)
    assert before <= {r["sample_id"] for r in records}
    assert all(r["trajectory"]["stop_reason"] == "final_answer" and r["trajectory"]["turn_count"] == 3 for r in records)

    def metrics(run_id: str) -> dict:
        summary = json.loads((out / run_id / "summary.json").read_text())
        return {k: (v["value"], v["count"]) for k, v in summary["metrics"].items()}

    assert metrics("killed") == metrics("clean") == {"exact_match": (0.625, 8)}
    assert _wait_gone(str(server)) == []

"""An MCP agent task end to end through `gage run`: a real stdio MCP server, the test server answering with tool
calls over HTTP (streamed), trajectories in samples.jsonl, bad input recorded, SIGKILL and resume."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from gage_eval.testing.server import TestServerConfig, run_server_in_thread
from tests.agent_fixtures import TASKS, agent_config, kv_agent, live_processes, write_kv_server
from tests.conftest import read_jsonl, write_jsonl


def _gage(*args: str) -> list[str]:
    return [sys.executable, "-m", "gage_eval", "run", *args, "--progress", "plain"]


def _wait_gone(marker: str, timeout: float = 15) -> list[int]:
    deadline = time.monotonic() + timeout
    while (pids := live_processes(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return pids


def test_mcp_agent_task_records_trajectories_and_bad_input(tmp_path: Path) -> None:
    server = write_kv_server(tmp_path)
    data = write_jsonl(tmp_path / "tasks.jsonl", TASKS)
    with run_server_in_thread(TestServerConfig(script=kv_agent)) as srv:
        cfg = tmp_path / "agent.yaml"
        cfg.write_text(yaml.safe_dump(agent_config(data, server, srv.base_url)))
        proc = subprocess.run(_gage(str(cfg), "--output-dir", str(tmp_path / "runs"), "--run-id", "r"),
                              capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = tmp_path / "runs" / "r"
    records = {r["sample_id"]: r for r in read_jsonl(run / "samples.jsonl")}
    assert set(records) == {t["id"] for t in TASKS}

    store = records["t_store"]
    assert store["status"] == "ok" and store["model_output"]["answer"] == "blue" and store["metrics"]["exact_match"] == 1
    traj = store["trajectory"]
    assert traj["stop_reason"] == "final_answer" and traj["turn_count"] == 3 and traj["tool_call_count"] == 2
    assert [m["role"] for m in traj["messages"]] == ["user", "assistant", "tool", "assistant", "tool", "assistant"]
    assert traj["messages"][2]["content"] == "stored color" and traj["messages"][4]["content"] == "blue"
    first_call = traj["turns"][0]["tool_calls"][0]
    assert first_call["name"] == "put" and first_call["arguments"] == {"key": "color", "value": "blue"}
    assert first_call["source"] == "mcp:kv" and first_call["status"] == "ok" and first_call["duration_ms"] > 0
    assert traj["usage"]["total_tokens"] > 0 and all(t["usage"]["completion_tokens"] > 0 for t in traj["turns"])
    assert store["sample"]["support_outputs"][0]["tools"][0] == {"name": "put", "source": "mcp:kv"}

    # Three parallel calls in one turn; per-sample servers: the other samples' keys are not there.
    assert records["t_parallel"]["model_output"]["answer"] == "x,y,z"
    assert records["t_parallel"]["trajectory"]["turns"] and \
        len(records["t_parallel"]["trajectory"]["turns"][0]["tool_calls"]) == 3

    bad = records["t_bad"]
    statuses = [c["status"] for c in bad["trajectory"]["turns"][0]["tool_calls"]]
    assert statuses == ["unknown_tool", "bad_arguments", "error", "timeout"]
    assert bad["status"] == "ok" and bad["model_output"]["answer"] == "survived"

    forever = records["t_forever"]
    assert forever["trajectory"]["stop_reason"] == "max_turns" and forever["trajectory"]["turn_count"] == 5
    assert forever["status"] == "ok" and forever["metrics"]["exact_match"] == 0

    crash = records["t_crash"]
    assert crash["status"] == "failed" and crash["trajectory"]["stop_reason"] == "tool_server_error"
    assert "MCP server 'kv'" in crash["error"]["message"] and crash["trajectory"]["turn_count"] == 2
    assert crash["trajectory"]["messages"][2]["content"] == "stored a"  # what happened before the crash is kept

    summary = json.loads((run / "summary.json").read_text())
    assert summary["run"]["status"] == "completed_with_failures" and summary["failures"]["total"] == 1
    assert summary["metrics"]["exact_match"]["value"] == 4 / 5
    assert (run / "logs" / "mcp" / "kv.log").read_text().count("kv server") == len(TASKS)  # one server per sample
    assert _wait_gone(str(server)) == []

"""A game is a sample: SIGKILL in the middle of a 40-game round-robin, rerun with the same run id, and the games
finished before the kill are kept as they were, the others replayed from their start, and the final table has
the same counts as an uninterrupted run."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

import gage_eval

from gage_eval.testing.server import TestServerConfig, run_server_in_thread

from .conftest import read_jsonl
from .games_support import arena_config, tictactoe_heuristic

PLAYERS = [{"name": "llm", "type": "llm", "backend_id": "llm", "max_retries": 1},
           {"name": "rnd", "type": "engine", "engine": "random"},
           {"name": "rnd2", "type": "engine", "engine": "random"},
           {"name": "perfect", "type": "engine", "engine": "perfect"},
           {"name": "search", "type": "engine", "engine": "search", "depth": 2}]


def _gage(config: Path, out: Path, run_id: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gage_eval", "run", str(config), "--output-dir", str(out),
                             "--run-id", run_id, "--progress", "off"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _table(summary: dict) -> dict:
    section = summary["summary_generators"]["game_arena"]
    return {p["player"]: (p["wins"], p["draws"], p["losses"], p["illegal_attempts"]) for p in section["players"]}


def test_sigkill_mid_round_robin_then_resume(tmp_path: Path) -> None:
    # 5 players, 10 pairs, 4 games each: 40 games of tic-tac-toe; the LLM answers slowly enough to be killed midway.
    with run_server_in_thread(TestServerConfig(script=tictactoe_heuristic, latency_ms=40)) as server:
        cfg = arena_config(server.base_url, PLAYERS, {"game": "tictactoe"},
                           {"format": "round_robin", "games_per_pair": 4, "seed": 5})
        cfg["execution"] = {"concurrency": 2}
        config = tmp_path / "rr.yaml"
        config.write_text(yaml.safe_dump(cfg), encoding="utf-8")
        out = tmp_path / "runs"
        samples = out / "killed" / "samples.jsonl"
        proc = _gage(config, out, "killed")
        deadline = time.monotonic() + 120
        while not samples.exists() or len(samples.read_text().splitlines()) < 8:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "too slow: no games finished"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        before = {r["sample_id"]: r for r in read_jsonl(samples)}  # complete lines only: a torn one is dropped
        assert 8 <= len(before) < 40

        # the rerun (and a run that was never interrupted, to compare with) in this process: same engine, less start-up
        assert gage_eval.run(config, output_dir=out, run_id="killed", progress="off").status == "completed"
        assert gage_eval.run(config, output_dir=out, run_id="uninterrupted", progress="off").status == "completed"

    after = {r["sample_id"]: r for r in read_jsonl(samples)}
    assert len(after) == 40 and set(before) <= set(after)
    for sample_id, record in before.items():  # kept, not replayed: byte-for-byte the same record
        assert after[sample_id] == record
    events = [json.loads(line) for line in (out / "killed" / "events.jsonl").read_text().splitlines()]
    resumed = [e for e in events if e.get("event") == "run_start"][-1]
    assert resumed["payload"]["resumed_samples"] == len(before)
    killed = json.loads((out / "killed" / "summary.json").read_text())
    clean = json.loads((out / "uninterrupted" / "summary.json").read_text())
    assert killed["sample_count"] == clean["sample_count"] == 40
    assert _table(killed) == _table(clean)
    def moves(records: dict) -> dict:
        return {k: [m["move"] for m in r["model_output"]["game"]["moves"]] for k, r in records.items()}
    clean_records = {r["sample_id"]: r for r in read_jsonl(out / "uninterrupted" / "samples.jsonl")}
    assert moves(after) == moves(clean_records)  # seeded games: the replayed ones went exactly the same way

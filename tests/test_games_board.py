"""The board page in Chromium: a person plays tic-tac-toe by clicks against a scripted LLM (over HTTP) to the end,
an illegal click is refused on the page and by the server, a reload mid-game continues the same game, and the
replay steps through every move. Runs `gage arena play` as a user would."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from gage_eval.testing.server import TestServerConfig, run_server_in_thread

from .browser import chromium_page
from .conftest import read_jsonl
from .games_support import arena_config, tictactoe_heuristic


def _start(tmp_path: Path, base_url: str) -> tuple[subprocess.Popen, str]:
    cfg = arena_config(base_url, [{"name": "me", "type": "human"},
                                  {"name": "llm", "type": "llm", "backend_id": "llm", "max_retries": 1}],
                       {"game": "tictactoe"}, {"format": "pairs", "pairs": [["me", "llm"]], "games_per_pair": 1})
    config = tmp_path / "ttt.yaml"
    config.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    url_file = tmp_path / "runs" / "human" / "board.url"
    proc = subprocess.Popen([sys.executable, "-m", "gage_eval", "arena", "play", str(config), "--port", "0",
                             "--output-dir", str(tmp_path / "runs"), "--run-id", "human", "--progress", "off"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not url_file.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the board page never started"
        time.sleep(0.05)
    return proc, url_file.read_text().strip()


def _stones(page: object) -> int:
    return page.locator("#board .stone").count()  # type: ignore[attr-defined]


def _wait_my_turn(page: object, moves: int) -> None:
    page.wait_for_function(  # type: ignore[attr-defined]
        f"state.snapshot && state.snapshot.log.length >= {moves} && "
        "(state.snapshot.human_turn !== null || state.snapshot.status === 'finished')", timeout=20_000)


def test_human_plays_by_clicks_to_the_end_with_reload_and_replay(tmp_path: Path) -> None:
    with run_server_in_thread(TestServerConfig(script=tictactoe_heuristic)) as server:
        proc, url = _start(tmp_path, server.base_url)
        try:
            with chromium_page() as page:
                page.goto(url)  # type: ignore[attr-defined]
                _wait_my_turn(page, 0)
                assert "Your move" in page.inner_text("#status")  # type: ignore[attr-defined]
                page.click("#board .cell[data-move='B2']")  # type: ignore[attr-defined]
                _wait_my_turn(page, 2)  # my move and the LLM's answer
                assert _stones(page) == 2
                # an occupied cell: refused on the page, and the server refuses it too
                page.click("#board .cell[data-move='B2']")  # type: ignore[attr-defined]
                assert "refused" in page.inner_text("#notice")  # type: ignore[attr-defined]
                game_id = page.evaluate("state.selected")  # type: ignore[attr-defined]
                status, detail = page.evaluate(  # type: ignore[attr-defined]
                    "id => fetch('/api/games/' + encodeURIComponent(id) + '/move', {method: 'POST', headers: "
                    "{'Content-Type': 'application/json'}, body: JSON.stringify({move: 'B2'})})"
                    ".then(r => r.json().then(b => [r.status, b.detail]))", game_id)
                assert status == 422 and detail == "B2 is already occupied"
                assert page.evaluate("state.snapshot.log.length") == 2  # type: ignore[attr-defined]
                # a reload in the middle of the game continues the same game
                page.reload()  # type: ignore[attr-defined]
                _wait_my_turn(page, 2)
                assert page.evaluate("state.selected") == game_id and _stones(page) == 2  # type: ignore[attr-defined]
                while page.evaluate("state.snapshot.status") != "finished":  # type: ignore[attr-defined]
                    legal = page.evaluate("state.snapshot.human_turn.legal")  # type: ignore[attr-defined]
                    played = page.evaluate("state.snapshot.log.length")  # type: ignore[attr-defined]
                    page.click(f"#board .cell[data-move='{legal[0]}']")  # type: ignore[attr-defined]
                    page.wait_for_function(f"state.snapshot.log.length > {played}",  # type: ignore[attr-defined]
                                           timeout=20_000)
                    _wait_my_turn(page, played + 1)
                assert "Finished" in page.inner_text("#status")  # type: ignore[attr-defined]
                moves = page.evaluate("state.snapshot.log.length")  # type: ignore[attr-defined]
                # the run is over; `gage arena play` keeps the page (same address) for replays until Ctrl-C
                summary = tmp_path / "runs" / "human" / "summary.json"
                deadline = time.monotonic() + 60
                while not summary.exists():
                    assert proc.poll() is None and time.monotonic() < deadline
                    time.sleep(0.05)
                while not page.evaluate("fetch('/api/games').then(r => r.ok).catch(() => false)"):  # type: ignore[attr-defined]
                    assert proc.poll() is None and time.monotonic() < deadline, "no replay page after the run"
                    time.sleep(0.1)
                # replay: step from the start through every move
                page.click("#replay-btn")  # type: ignore[attr-defined]
                page.wait_for_function("window.replayer && window.replayer.count > 1")  # type: ignore[attr-defined]
                assert page.evaluate("window.replayer.count") == moves + 1  # type: ignore[attr-defined]
                page.click("#replay .replay-first")  # type: ignore[attr-defined]
                assert page.locator("#replay .stone").count() == 0  # type: ignore[attr-defined]
                for step in range(1, moves + 1):
                    page.click("#replay .replay-next")  # type: ignore[attr-defined]
                    assert page.get_attribute("#replay", "data-index") == str(step)  # type: ignore[attr-defined]
                    assert page.locator("#replay .stone").count() == step  # type: ignore[attr-defined]
                page.click("#replay .replay-next")  # past the end stays at the end  # type: ignore[attr-defined]
                assert page.get_attribute("#replay", "data-index") == str(moves)  # type: ignore[attr-defined]
            proc.send_signal(signal.SIGTERM)  # Ctrl-C / SIGTERM closes the replay page
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err
    assert "tictactoe: 1 games" in out  # the ratings / results table printed at the end
    record = read_jsonl(tmp_path / "runs" / "human" / "samples.jsonl")[0]
    game = record["model_output"]["game"]
    assert game["players"] == ["me", "llm"] and game["move_count"] == moves
    assert [m["source"] for m in game["moves"]][0] == "human" and game["moves"][0]["move"] == "B2"
    assert json.loads((tmp_path / "runs" / "human" / "summary.json").read_text())["sample_count"] == 1

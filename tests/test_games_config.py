"""Bad game configs fail at validation with the config path and a fix, before any game is played."""
from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from gage_eval.cli.config_cmds import validate_file
from gage_eval.errors import ConfigError

from .games_support import arena_config

LLM = {"name": "llm", "type": "llm", "backend_id": "llm"}
RANDOM = {"name": "rnd", "type": "engine", "engine": "random"}


def _validate(tmp_path: Path, cfg: dict[str, Any]) -> str:
    path = tmp_path / "game.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return validate_file(path)


def _error(tmp_path: Path, cfg: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        _validate(tmp_path, cfg)
    return info.value


def test_a_good_config_validates_and_gets_its_schedule_dataset(tmp_path: Path) -> None:
    cfg = arena_config("http://127.0.0.1:9/v1", [LLM, RANDOM], {"game": "gomoku", "board_size": 9},
                       {"games_per_pair": 3})
    assert "ok (1 task(s): games)" in _validate(tmp_path, cfg)


@pytest.mark.parametrize(("environment", "path", "message", "fix"), [
    ({"game": "gomokuu"}, "role_adapters[1].params.environment.game", "unknown game 'gomokuu'", "did you mean 'gomoku'"),
    ({"game": "gomoku", "board_size": 4, "win_length": 5}, "role_adapters[1].params.environment.win_length",
     "a 4x4 board is too small for win_length 5", "board_size >= 5"),
    ({"game": "connect_four", "rows": 3, "columns": 3}, "role_adapters[1].params.environment.win_length",
     "too small for win_length 4", "larger board"),
    ({"game": "tictactoe", "board_size": 4}, "role_adapters[1].params.environment.board_size",
     "tictactoe does not use board_size", "remove it"),
    ({"game": "chess", "fen": "not a position"}, "role_adapters[1].params.environment",
     "rejected its settings", "check"),
])
def test_bad_environments(tmp_path: Path, environment: dict[str, Any], path: str, message: str, fix: str) -> None:
    error = _error(tmp_path, arena_config("http://127.0.0.1:9/v1", [LLM, RANDOM], environment, {}))
    assert error.path == path and message in error.message and fix in (error.fix or "")
    assert error.file and error.file.endswith("game.yaml")


def test_player_with_a_missing_backend(tmp_path: Path) -> None:
    cfg = arena_config("http://127.0.0.1:9/v1", [{**LLM, "backend_id": "lmm"}, RANDOM], {"game": "tictactoe"}, {})
    error = _error(tmp_path, cfg)
    assert error.path == "role_adapters[1].params.players[0].backend_id"
    assert "uses backend 'lmm', which is not declared" in error.message and "did you mean 'llm'" in (error.fix or "")
    no_backend = _error(tmp_path, arena_config(None, [{"name": "llm", "type": "llm"}, RANDOM], {"game": "tictactoe"},
                                               {}))
    assert no_backend.path == "role_adapters[1].params.players[0]" and "needs backend_id" in no_backend.message


@pytest.mark.parametrize(("player", "env", "message"), [
    ({"engine": "perfect"}, {"game": "gomoku"}, "engine perfect plays only tictactoe"),
    ({"engine": "search"}, {"game": "chess"}, "engine search plays grid games"),
    ({"engine": "stockfish", "path": "/nonexistent/stockfish"}, {"game": "chess"}, "no stockfish executable"),
    ({"engine": "alphazero"}, {"game": "chess"}, "unknown engine 'alphazero'"),
])
def test_engines_that_cannot_play_the_game(tmp_path: Path, player: dict[str, Any], env: dict[str, Any],
                                           message: str) -> None:
    cfg = arena_config(None, [{"name": "e", "type": "engine", **player}, RANDOM], env, {})
    error = _error(tmp_path, cfg)
    assert message in error.message and error.path.startswith("role_adapters[1].params.players[0]")
    if "stockfish" in message:
        assert "apt-get install stockfish" in (error.fix or "")


def test_unknown_player_in_the_schedule(tmp_path: Path) -> None:
    cfg = arena_config(None, [RANDOM, {"name": "rnd2", "type": "engine", "engine": "random"}], {"game": "tictactoe"},
                       {"format": "pairs", "pairs": [["rnd", "rdn2"]]})
    error = _error(tmp_path, cfg)
    assert error.path == "role_adapters[1].params.scheduler.pairs[0][1]" and "unknown player 'rdn2'" in error.message


def test_board_page_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cfg = arena_config(None, [RANDOM, {"name": "h", "type": "human"}], {"game": "tictactoe"}, {},
                           visualizer={"enabled": True, "port": port})
        error = _error(tmp_path, cfg)
    assert error.path == "role_adapters[1].params.visualizer.port"
    assert f"cannot listen on 127.0.0.1:{port}: the port is in use" in error.message and "port" in (error.fix or "")


def test_cli_validate_reports_one_line_errors(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(arena_config(None, [RANDOM, {"name": "r2", "type": "engine", "engine": "random"}],
                                                {"game": "gomoku", "board_size": 3}, {})), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "gage_eval", "validate", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "role_adapters[1].params.environment.win_length: a 3x3 board is too small for win_length 5" in proc.stderr

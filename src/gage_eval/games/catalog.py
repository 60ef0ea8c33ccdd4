"""Game names -> environments, with the checks that turn a bad environment config into a clear error."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gage_eval.errors import ConfigError, close_match_hint
from gage_eval.games.config import EnvironmentSpec
from gage_eval.games.coords import MAX_SIDE
from gage_eval.games.env import GameEnv

GAMES = ("gomoku", "tictactoe", "connect_four", "chess")
GRID_GAMES = ("gomoku", "tictactoe", "connect_four")
_ALIASES = {"tic_tac_toe": "tictactoe", "tic-tac-toe": "tictactoe", "connect4": "connect_four",
            "connect_4": "connect_four", "connectfour": "connect_four"}
# Which keys each game reads; any other key set is a mistake worth naming.
_KEYS = {"gomoku": {"board_size", "win_length"}, "tictactoe": set(), "connect_four": {"rows", "columns", "win_length"},
         "chess": {"fen"}}


def game_name(spec: EnvironmentSpec) -> str:
    return _ALIASES.get(spec.game.lower(), spec.game.lower()) if ":" not in spec.game else spec.game


def _missing_library(game: str, exc: ImportError, where: str) -> ConfigError:
    package = "chess" if game == "chess" else "open_spiel"
    return ConfigError(f"the {game} environment needs the '{package}' package, which is not installed ({exc})",
                       path=f"{where}.game", fix="pip install 'gage-eval[games]'")


def _check_size(spec: EnvironmentSpec, game: str, where: str) -> None:
    if game == "gomoku":
        size, k = spec.board_size or 15, spec.win_length or 5
        if size > MAX_SIDE:
            raise ConfigError(f"board_size {size} is larger than the {MAX_SIDE} columns letters can name",
                              path=f"{where}.board_size", fix=f"use a board of at most {MAX_SIDE}x{MAX_SIDE}")
        if k > size:
            raise ConfigError(f"a {size}x{size} board is too small for win_length {k}: nobody could ever win",
                              path=f"{where}.win_length", fix=f"use board_size >= {k} or a win_length <= {size}")
        if k < 2:
            raise ConfigError("win_length must be at least 2", path=f"{where}.win_length", fix="e.g. win_length: 5")
    if game == "connect_four":
        rows, cols, k = spec.rows or 6, spec.columns or 7, spec.win_length or 4
        if k > max(rows, cols):
            raise ConfigError(f"a board of {cols} columns and {rows} rows is too small for win_length {k}",
                              path=f"{where}.win_length", fix=f"use win_length <= {max(rows, cols)} or a larger board")
        if k < 2:
            raise ConfigError("win_length must be at least 2", path=f"{where}.win_length", fix="e.g. win_length: 4")


def env_factory(spec: EnvironmentSpec, where: str) -> Callable[[], GameEnv]:
    """A function making fresh environments; builds one now so every mistake surfaces at validation."""
    game = game_name(spec)
    if ":" in game:
        from gage_eval.registry import import_object

        cls = import_object(game, f"{where}.game")
        factory: Callable[[], GameEnv] = lambda: cls(**spec.params)  # noqa: E731
    else:
        if game not in GAMES:
            raise ConfigError(f"unknown game '{spec.game}'", path=f"{where}.game",
                              fix=close_match_hint(spec.game, GAMES, label="games") +
                              "; or a plugin environment as 'package.module:Class'")
        stray = sorted(k for k in ("board_size", "win_length", "rows", "columns", "fen")
                       if getattr(spec, k) is not None and k not in _KEYS[game])
        if stray:
            raise ConfigError(f"{game} does not use {', '.join(stray)}", path=f"{where}.{stray[0]}",
                              fix=f"remove it; {game} reads " + (", ".join(sorted(_KEYS[game])) or "no settings"))
        _check_size(spec, game, where)
        factory = _builtin_factory(game, spec)
    try:
        env = factory()
    except ImportError as exc:
        raise _missing_library(game, exc, where) from None
    except ValueError as exc:  # e.g. an invalid FEN
        raise ConfigError(f"the {game} environment rejected its settings: {exc}", path=where,
                          fix="check the environment settings") from None
    if not isinstance(env, GameEnv):
        raise ConfigError(f"'{game}' does not build a GameEnv", path=f"{where}.game",
                          fix="subclass gage_eval.games.env.GameEnv")
    return factory


def _builtin_factory(game: str, spec: EnvironmentSpec) -> Callable[[], GameEnv]:
    def make() -> GameEnv:
        if game == "chess":
            from gage_eval.games.chess_env import Chess

            return Chess(spec.fen)
        from gage_eval.games import grid_envs

        if game == "gomoku":
            return grid_envs.Gomoku(spec.board_size or 15, spec.win_length or 5)
        if game == "connect_four":
            return grid_envs.ConnectFour(spec.rows or 6, spec.columns or 7, spec.win_length or 4)
        return grid_envs.TicTacToe()
    return make


def describe(spec: EnvironmentSpec) -> dict[str, Any]:
    """The environment as recorded in each game sample (what replays need to rebuild it)."""
    return spec.model_dump(exclude_none=True, exclude={"coord_scheme"} if spec.coord_scheme == "A1" else set())

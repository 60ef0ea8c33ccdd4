"""Engine baselines: random, perfect tic-tac-toe, depth-limited search (grid games), Stockfish (chess).

An engine is `choose(env, rng) -> move`, plain CPU work that the engine player runs in a worker thread.
Which engines play which games is checked when the arena role is built, with the config path in the error.
"""
from __future__ import annotations

import random
import shutil
import threading
from collections.abc import Callable
from typing import Any

from gage_eval.errors import ConfigError
from gage_eval.games.config import PlayerSpec
from gage_eval.games.coords import cell_name
from gage_eval.games.env import GameEnv

Engine = Callable[[GameEnv, random.Random], str]
ENGINES = ("random", "perfect", "search", "stockfish")
_DEFAULT_DEPTH = {"tictactoe": 9, "connect_four": 4, "gomoku": 2}


def _flat(env: Any) -> list[int]:
    return [v for row in env.cells for v in row]


def _move_of_cell(env: Any, cell: int) -> str:
    row, col = divmod(cell, env.cols)
    return str(col + 1) if env.gravity else cell_name(row, col, env.rows)


def random_engine(env: GameEnv, rng: random.Random) -> str:
    return rng.choice(env.legal_moves())


def _perfect(env: GameEnv, rng: random.Random) -> str:
    from gage_eval.games.search import perfect_tictactoe

    return _move_of_cell(env, perfect_tictactoe(_flat(env), env.current_seat + 1, rng))


def _search(spec: PlayerSpec, env: GameEnv) -> Engine:
    from gage_eval.games.search import GridSearch

    probe: Any = env
    depth = spec.depth or _DEFAULT_DEPTH.get(env.game, 2)
    search = GridSearch(probe.rows, probe.cols, probe.win_length, gravity=probe.gravity, depth=depth,
                        candidates=spec.candidates or 8)

    def choose(env: GameEnv, rng: random.Random) -> str:
        return _move_of_cell(env, search.best_cell(_flat(env), env.current_seat + 1, rng))
    return choose


class Stockfish:
    """A UCI engine process (Stockfish) through python-chess, shared by the games of one player."""

    def __init__(self, spec: PlayerSpec, where: str) -> None:
        # Debian's package installs to /usr/games, which is often not on PATH.
        path = spec.path or shutil.which("stockfish") or shutil.which("stockfish", path="/usr/games")
        if not path or not shutil.which(path):
            raise ConfigError(f"player '{spec.name}' wants Stockfish, but no stockfish executable was found"
                              f"{' at ' + spec.path if spec.path else ' on PATH'}", path=f"{where}.path",
                              fix="install it (Debian/Ubuntu: apt-get install stockfish; macOS: brew install "
                                  "stockfish) or set path: /path/to/stockfish")
        self.path, self.spec = path, spec
        self._engine: Any = None
        self._lock = threading.Lock()

    def __call__(self, env: GameEnv, rng: random.Random) -> str:
        import chess.engine

        with self._lock:  # one search at a time per engine process
            if self._engine is None:
                self._engine = chess.engine.SimpleEngine.popen_uci(self.path)
                if self.spec.skill_level is not None:
                    self._engine.configure({"Skill Level": self.spec.skill_level})
            limit = chess.engine.Limit(depth=self.spec.depth or (None if self.spec.time_limit_s else 8),
                                       time=self.spec.time_limit_s)
            result = self._engine.play(env.board, limit)  # type: ignore[attr-defined]
        return result.move.uci()

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.quit()
                self._engine = None


def build_engine(spec: PlayerSpec, env: GameEnv, where: str) -> Engine:
    """The engine a player spec names, checked against the game it will play."""
    name = spec.engine or ""
    if ":" in name:
        from gage_eval.registry import import_object

        target = import_object(name, f"{where}.engine")
        return target(spec) if isinstance(target, type) else target
    if name == "random":
        return random_engine
    game = env.game
    if name == "perfect":
        if game != "tictactoe":
            raise ConfigError(f"engine perfect plays only tictactoe, not {game}", path=f"{where}.engine",
                              fix="use engine: search (depth-limited) for grid games, stockfish for chess")
        return _perfect
    if name == "search":
        if not hasattr(env, "gravity"):
            raise ConfigError(f"engine search plays grid games (gomoku, tictactoe, connect_four), not {game}",
                              path=f"{where}.engine", fix="use engine: stockfish or random for chess")
        return _search(spec, env)
    if name == "stockfish":
        if game != "chess":
            raise ConfigError(f"engine stockfish plays only chess, not {game}", path=f"{where}.engine",
                              fix="use engine: search or random")
        return Stockfish(spec, where)
    from gage_eval.errors import close_match_hint

    raise ConfigError(f"unknown engine '{name}'", path=f"{where}.engine",
                      fix=close_match_hint(name, ENGINES, label="engines") + "; or 'package.module:function'")

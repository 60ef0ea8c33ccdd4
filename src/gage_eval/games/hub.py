"""BoardHub: the games of a run as the board page sees them, shared by the run's event loop (which plays)
and the page server's thread (which reads, and hands in human moves).

Every change bumps a version number; the page polls for it. A human move request is a future on the run's
loop that the server thread resolves only with a legal move, so a refused click never reaches the game.
"""
from __future__ import annotations

import asyncio
import copy
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from gage_eval.games.env import GameEnv


@dataclass
class _Pending:
    seat: int
    env: GameEnv  # a private copy for checking submitted moves in the server thread
    legal: list[str]
    future: asyncio.Future[str]
    loop: asyncio.AbstractEventLoop


@dataclass
class LiveGame:
    game_id: str
    players: list[dict[str, str]]  # [{"name", "type", "seat"}] in seat order
    view: dict[str, Any]
    log: list[dict[str, Any]] = field(default_factory=list)
    status: str = "playing"  # playing | finished
    result: dict[str, Any] | None = None
    pending: _Pending | None = None
    started: float = field(default_factory=time.time)


class BoardHub:
    def __init__(self, game: str) -> None:
        self.game = game
        self._lock = threading.Lock()
        self._games: dict[str, LiveGame] = {}
        self.version = 0

    def _bump(self) -> None:
        self.version += 1

    # -- the run's side ---------------------------------------------------------------------------
    def start(self, game_id: str, players: list[dict[str, str]], view: dict[str, Any]) -> None:
        with self._lock:
            self._games[game_id] = LiveGame(game_id, players, view)  # a replayed game starts over
            self._bump()

    def moved(self, game_id: str, entry: dict[str, Any], view: dict[str, Any]) -> None:
        with self._lock:
            game = self._games[game_id]
            game.log.append(entry)
            game.view = view
            self._bump()

    def finish(self, game_id: str, result: dict[str, Any], view: dict[str, Any]) -> None:
        with self._lock:
            game = self._games[game_id]
            game.status, game.result, game.view, game.pending = "finished", result, view, None
            self._bump()

    def load_finished(self, record: dict[str, Any]) -> None:
        """A game finished by an earlier attempt of this run (resume), shown for replay."""
        game = ((record.get("model_output") or {}).get("game")) or {}
        if not game.get("moves") and not game.get("final_view"):
            return
        players = [{"name": n, "type": t, "seat": s} for n, t, s in
                   zip(game.get("players", []), game.get("player_types", []), game.get("seats", []))]
        with self._lock:
            if record["sample_id"] not in self._games:
                live = LiveGame(record["sample_id"], players, game.get("final_view") or {}, list(game["moves"]),
                                "finished", _result_of(game))
                self._games[record["sample_id"]] = live
                self._bump()

    async def request_move(self, game_id: str, seat: int, env: GameEnv) -> str:
        loop = asyncio.get_running_loop()
        pending = _Pending(seat, env.clone(), env.legal_moves(), loop.create_future(), loop)
        with self._lock:
            self._games[game_id].pending = pending
            self._bump()
        try:
            return await pending.future
        finally:
            with self._lock:
                game = self._games.get(game_id)
                if game is not None and game.pending is pending:
                    game.pending = None
                    self._bump()

    # -- the page's side ---------------------------------------------------------------------------
    def submit(self, game_id: str, move: str) -> str | None:
        """Hand in a human move: None when accepted, else why it was refused."""
        with self._lock:
            game = self._games.get(game_id)
            if game is None:
                return f"no game {game_id!r}"
            pending = game.pending
            if game.status != "playing" or pending is None:
                return "it is not a human player's turn in this game"
            canonical = pending.env.normalize(move)
            if canonical is None:
                return f"{move!r} is not written like a move ({pending.env.move_syntax})"
            reason = pending.env.illegal_reason(canonical)
            if reason is not None:
                return reason
            game.pending = None
            self._bump()
        pending.loop.call_soon_threadsafe(lambda: pending.future.done() or pending.future.set_result(canonical))
        return None

    def listing(self) -> dict[str, Any]:
        with self._lock:
            games = [{"game_id": g.game_id, "players": g.players, "status": g.status, "moves": len(g.log),
                      "waiting_for_human": g.pending is not None, "result": g.result}
                     for g in sorted(self._games.values(), key=lambda g: (g.status != "playing", g.game_id))]
            return {"game": self.game, "version": self.version, "games": games}

    def snapshot(self, game_id: str) -> dict[str, Any] | None:
        with self._lock:
            game = self._games.get(game_id)
            if game is None:
                return None
            pending = game.pending
            return {"game_id": game.game_id, "game": self.game, "version": self.version, "players": game.players,
                    "status": game.status, "result": game.result, "view": copy.deepcopy(game.view),
                    "log": copy.deepcopy(game.log),
                    "human_turn": None if pending is None else {"seat": pending.seat, "legal": list(pending.legal)}}

    def moves_of(self, game_id: str) -> list[str] | None:
        with self._lock:
            game = self._games.get(game_id)
            return None if game is None else [e["move"] for e in game.log if e.get("move") and not e.get("forfeit")]


def _result_of(game: dict[str, Any]) -> dict[str, Any]:
    return {k: game.get(k) for k in ("winner", "winner_seat", "reason", "result")}

"""Replays: the position after every move, rebuilt from a move log with the game's own rules."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gage_eval.games.env import GameEnv


def replay_views(make_env: Callable[[], GameEnv], moves: list[str], seed: int = 0) -> list[dict[str, Any]]:
    """views[0] is the start, views[i] the position after move i. A move the rules refuse stops the replay
    there (a log from another version of a game), so what is shown is always a legal position."""
    env = make_env()
    env.reset(seed)
    views = [env.view()]
    for move in moves:
        if env.illegal_reason(move) is not None:
            break
        env.play(move)
        views.append(env.view())
    return views


def game_moves(game: dict[str, Any]) -> list[str]:
    return [e["move"] for e in game.get("moves", []) if e.get("move") and not e.get("forfeit")]


def replay_payload(game_id: str, game: dict[str, Any], environment: dict[str, Any]) -> dict[str, Any]:
    """A finished game for the board page and report.html: the start position and one step per move (grid
    games: the cell filled; chess: the position's FEN), with each move's player, source and refused answers."""
    from gage_eval.games.catalog import env_factory
    from gage_eval.games.config import EnvironmentSpec

    make = env_factory(EnvironmentSpec.model_validate(environment), "environment")
    moves = game_moves(game)
    views = replay_views(make, moves, int(game.get("seed", 0)))
    entries = [e for e in game.get("moves", []) if e.get("move") and not e.get("forfeit")]
    steps = []
    for i, (before, after) in enumerate(zip(views, views[1:])):
        entry = entries[i] if i < len(entries) else {}
        step: dict[str, Any] = {"move": moves[i], "player": entry.get("player"), "seat": entry.get("seat"),
                                "source": entry.get("source"), "san": entry.get("san"),
                                "rejected": [a.get("raw", "") for a in entry.get("attempts", []) if a.get("error")]}
        if after["kind"] == "grid":
            step["place"] = next([r, c] for r, (row_a, row_b) in enumerate(zip(before["cells"], after["cells"]))
                                 for c, (x, y) in enumerate(zip(row_a, row_b)) if x != y)
            step["mark"] = after["cells"][step["place"][0]][step["place"][1]]
        else:
            step["fen"], step["last"] = after.get("fen"), after.get("last")
        steps.append(step)
    return {"game_id": game_id, "game": game.get("game"), "players": game.get("players"), "seats": game.get("seats"),
            "winner": game.get("winner"), "reason": game.get("reason"), "start": views[0], "final": views[-1],
            "steps": steps}

"""One game: players move in turn until the rules end it, a player forfeits, or `max_turns` adjudicates a draw.

The returned record is the sample's model output: `answer` says who won; `game` holds the move log (each move's
raw answers, legality, retries, fallback, time and tokens), the result and the final position.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from gage_eval.games.env import GameEnv
from gage_eval.games.players import Player, Turn


def _entry(ply: int, seat: int, player: Player, decision: Any, ms: float, env: GameEnv) -> dict[str, Any]:
    entry: dict[str, Any] = {"ply": ply + 1, "seat": seat, "player": player.name, "move": decision.move,
                             "source": decision.source, "legal_first_try": decision.illegal == 0,
                             "illegal_attempts": decision.illegal, "retries": max(0, len(decision.attempts) - 1),
                             "ms": round(ms, 2)}
    if decision.move and env.game == "chess":
        entry["san"] = env.san(decision.move)  # type: ignore[attr-defined]
    if decision.attempts and player.type != "human":
        entry["attempts"] = decision.attempts
    if decision.usage:
        entry["usage"] = decision.usage
    if decision.forfeit:
        entry.update(forfeit=True, forfeit_reason=decision.forfeit_reason)
    return entry


async def play_game(game_id: str, env: GameEnv, players: Sequence[Player], *, seed: int, max_turns: int | None,
                    hub: Any = None, move_delay_s: float = 0.0, rules: str | None = None) -> dict[str, Any]:
    env.reset(seed)
    seats = [{"name": p.name, "type": p.type, "seat": env.seat_names[i]} for i, p in enumerate(players)]
    if hub is not None:
        hub.start(game_id, seats, env.view())
    log: list[dict[str, Any]] = []
    started = time.perf_counter()
    winner: int | None = None
    reason = ""
    while True:
        outcome = env.outcome()
        if outcome is not None:
            winner, reason = outcome.winner, outcome.reason
            break
        if max_turns is not None and len(env.moves) >= max_turns:
            winner, reason = None, f"max_turns ({max_turns}) reached: adjudicated a draw"
            break
        seat, ply = env.current_seat, len(env.moves)
        player = players[seat]
        t0 = time.perf_counter()
        decision = await player.decide(Turn(env, seat, ply, game_id, seed, rules))
        entry = _entry(ply, seat, player, decision, (time.perf_counter() - t0) * 1000, env)
        if decision.forfeit:
            log.append(entry)
            winner, reason = 1 - seat, f"{player.name} forfeited: {decision.forfeit_reason}"
            break
        assert decision.move is not None
        env.play(decision.move)  # players only return legal moves; an engine bug fails the game loudly here
        log.append(entry)
        if hub is not None:
            hub.moved(game_id, entry, env.view())
            if move_delay_s and player.type != "human":
                await asyncio.sleep(move_delay_s)
    record = game_record(env, players, log, winner, reason, seed, (time.perf_counter() - started) * 1000)
    if hub is not None:
        hub.finish(game_id, {k: record["game"][k] for k in ("winner", "winner_seat", "reason", "result")},
                   env.view())
    return record


def game_record(env: GameEnv, players: Sequence[Player], log: list[dict[str, Any]], winner: int | None, reason: str,
                seed: int, ms: float) -> dict[str, Any]:
    names = [p.name for p in players]
    scores = [0.5, 0.5] if winner is None else [1.0 if s == winner else 0.0 for s in (0, 1)]
    per_seat = [[e for e in log if e["seat"] == s] for s in (0, 1)]
    usage = [{k: sum((e.get("usage") or {}).get(k, 0) for e in moves) for k in ("prompt_tokens", "completion_tokens")}
             for moves in per_seat]
    game = {
        "game": env.game, "seed": seed, "players": names, "player_types": [p.type for p in players],
        "seats": list(env.seat_names), "winner": None if winner is None else names[winner], "winner_seat": winner,
        "result": "draw" if winner is None else "win", "reason": reason, "scores": scores,
        "move_count": sum(1 for e in log if not e.get("forfeit")), "moves": log,
        "illegal_attempts": [sum(e["illegal_attempts"] for e in m) for m in per_seat],
        "fallback_moves": [sum(e["source"] == "fallback" for e in m) for m in per_seat],
        "forfeit_seat": next((e["seat"] for e in log if e.get("forfeit")), None),
        "usage": usage, "duration_ms": round(ms, 2), "final_view": env.view(),
    }
    answer = f"draw ({reason})" if winner is None else f"{names[winner]} ({env.seat_names[winner]}) wins: {reason}"
    totals = {k: usage[0][k] + usage[1][k] for k in ("prompt_tokens", "completion_tokens")}
    llm_ms = sum(a.get("latency_ms") or 0 for e in log for a in e.get("attempts", []))
    return {"answer": answer, "game": game, "usage": totals, "latency_ms": round(llm_ms, 2)}

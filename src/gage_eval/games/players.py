"""Players: `llm` (any backend), `engine` (baselines) and `human` (the board page).

Every player answers `decide(turn) -> Decision`. An LLM sees the rules, the board, the moves so far and the
legal moves, and is asked for exactly one move; an unparsable or illegal answer is sent back with the reason,
up to `max_retries` more times, then the configured fallback applies (a random legal move, or forfeit). Each
rejected answer is kept and counted.
"""
from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from gage_eval.backends.base import GenerationRequest
from gage_eval.games.config import PlayerSpec
from gage_eval.games.env import GameEnv
from gage_eval.games.parser import Parser

_MARKS = ("X", "O")


@dataclass
class Turn:
    env: GameEnv  # the live position: players must not change it (engines search on clones)
    seat: int
    ply: int  # 0-based count of moves played
    game_id: str
    seed: int
    rules: str | None = None  # from the support step, when it ran


@dataclass
class Decision:
    move: str | None  # None with forfeit
    source: str  # llm | engine | human | fallback
    attempts: list[dict[str, Any]] = field(default_factory=list)
    illegal: int = 0
    forfeit: bool = False
    forfeit_reason: str | None = None
    usage: dict[str, int] = field(default_factory=dict)


class Player(Protocol):
    name: str
    type: str

    async def decide(self, turn: Turn) -> Decision: ...

    def close(self) -> None: ...


def turn_rng(turn: Turn, name: str, salt: str = "") -> random.Random:
    """Seeded per game, ply and player: a rerun of the same game makes the same random choices."""
    return random.Random(f"{turn.seed}:{turn.ply}:{name}:{salt}")


def seat_label(env: GameEnv, seat: int) -> str:
    label = env.seat_names[seat]
    return label if env.game == "chess" else f"{label} ({_MARKS[seat]})"


class EnginePlayer:
    type = "engine"

    def __init__(self, spec: PlayerSpec, engine: Any) -> None:
        self.name, self.spec, self.engine = spec.name, spec, engine

    async def decide(self, turn: Turn) -> Decision:
        position = turn.env.clone()
        move = await asyncio.to_thread(self.engine, position, turn_rng(turn, self.name))
        return Decision(move, "engine")

    def close(self) -> None:
        close = getattr(self.engine, "close", None)
        if close is not None:
            close()


class LLMPlayer:
    type = "llm"

    def __init__(self, spec: PlayerSpec, caller: Any, parser: Parser) -> None:
        self.name, self.spec, self.caller, self.parser = spec.name, spec, caller, parser

    def prompt(self, turn: Turn) -> list[dict[str, Any]]:
        env, spec = turn.env, self.spec
        me = seat_label(env, turn.seat)
        system = spec.system_prompt or (f"You are an expert {env.game.replace('_', ' ')} player. You play {me}. "
                                        "Answer with exactly one legal move.")
        history = ", ".join(f"{i + 1}. {m}" for i, m in enumerate(env.moves)) or "none yet (you move first)"
        parts = [f"Rules: {turn.rules or env.rules()}", f"You play {me}. It is move {turn.ply + 1}.",
                 f"Moves so far: {history}", f"Board:\n{env.board_text()}"]
        if spec.show_legal_moves:
            parts.append(f"Legal moves: {', '.join(env.legal_moves())}")
        parts.append(f"Reply with exactly one move on the last line as 'Move: <move>', where <move> is "
                     f"{env.move_syntax}.")
        return [{"role": "system", "content": system}, {"role": "user", "content": "\n\n".join(parts)}]

    async def decide(self, turn: Turn) -> Decision:
        env = turn.env
        messages = self.prompt(turn)
        decision = Decision(None, "llm", usage={"prompt_tokens": 0, "completion_tokens": 0})
        for _ in range(self.spec.max_retries + 1):
            request = GenerationRequest(messages=list(messages), params=dict(self.spec.generation))
            started = time.perf_counter()
            response = await self.caller.generate(request)
            for key in decision.usage:
                decision.usage[key] += int(response.usage.get(key, 0) or 0)
            parsed = self.parser(response.text, env)
            error = parsed.error if parsed.move is None else env.illegal_reason(parsed.move)
            decision.attempts.append({
                "raw": response.text, "move": parsed.move, "error": error, "usage": dict(response.usage),
                "latency_ms": round(response.latency_ms if response.latency_ms is not None
                                    else (time.perf_counter() - started) * 1000, 2),
                "cached": response.cached})
            if error is None:
                decision.move = parsed.move
                return decision
            decision.illegal += 1
            reminder = f" Legal moves: {', '.join(env.legal_moves())}." if self.spec.show_legal_moves else ""
            messages += [{"role": "assistant", "content": response.text},
                         {"role": "user", "content": f"That move was rejected: {error}.{reminder} Reply with exactly "
                                                     "one legal move on the last line as 'Move: <move>'."}]
        if self.spec.fallback == "random":
            decision.move, decision.source = turn_rng(turn, self.name, "fallback").choice(env.legal_moves()), "fallback"
        else:
            decision.forfeit = True
            decision.forfeit_reason = f"no legal move in {len(decision.attempts)} attempts"
        return decision

    def close(self) -> None:
        return None


class HumanPlayer:
    type = "human"

    def __init__(self, spec: PlayerSpec, hub: Any) -> None:
        self.name, self.spec, self.hub = spec.name, spec, hub

    async def decide(self, turn: Turn) -> Decision:
        started = time.perf_counter()
        try:
            move = await asyncio.wait_for(self.hub.request_move(turn.game_id, turn.seat, turn.env),
                                          timeout=self.spec.move_timeout_s)
        except asyncio.TimeoutError:
            return Decision(None, "human", forfeit=True,
                            forfeit_reason=f"no move within {self.spec.move_timeout_s:g} s")
        return Decision(move, "human", attempts=[{"raw": move, "move": move, "error": None,
                                                  "latency_ms": round((time.perf_counter() - started) * 1000, 2)}])

    def close(self) -> None:
        return None

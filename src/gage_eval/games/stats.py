"""Game arena results: per-game metrics (auto_eval) and the `game_arena` summary section.

Per player and per seat: win / draw / loss rates and the score (a draw is half), each with a 95% interval
(Wilson for the rates, normal for the score); illegal-move rate per move (turns whose first answer was refused)
and per game; fallback moves, forfeits, average game length, tokens. Ratings over all players come from the
model arena's Bradley-Terry fit (draws count half) with bootstrap intervals. Replays of a few chosen games are
embedded for report.html.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from gage_eval.metrics.aggregate import RunningStat
from gage_eval.metrics.base import MetricContext, MetricResult, SimpleMetric
from gage_eval.registry import registry


def _game(context: MetricContext) -> dict[str, Any]:
    game = context.model_output.get("game")
    return game if isinstance(game, dict) else {}


@registry.asset("metrics", "game_length", desc="moves played in the game (plies)", tags=("games",))
class GameLength(SimpleMetric):
    def compute_value(self, context: MetricContext) -> float:
        return float(_game(context).get("move_count", 0))


@registry.asset("metrics", "game_decisive", desc="1 when the game had a winner, 0 for a draw", tags=("games",))
class GameDecisive(SimpleMetric):
    def compute_value(self, context: MetricContext) -> float:
        return 0.0 if _game(context).get("winner_seat") is None else 1.0


@registry.asset("metrics", "first_mover_score", desc="the first player's score (1 win, 0.5 draw, 0 loss): the "
                "first-move advantage", tags=("games",))
class FirstMoverScore(SimpleMetric):
    def compute_value(self, context: MetricContext) -> float:
        scores = _game(context).get("scores") or [0.5, 0.5]
        return float(scores[0])


@registry.asset("metrics", "illegal_move_rate", desc="share of the game's LLM turns whose first answer was "
                "illegal or unparsable", tags=("games",))
class IllegalMoveRate(SimpleMetric):
    def evaluate(self, context: MetricContext) -> MetricResult:
        turns = [e for e in _game(context).get("moves", []) if e.get("attempts")]
        values: list[float] = [0.0 if e["legal_first_try"] else 1.0 for e in turns]
        return MetricResult({self.metric_id: values}, {"illegal_attempts": sum(e["illegal_attempts"] for e in turns)})


@registry.asset("metrics", "game_forfeit", desc="1 when a player forfeited the game", tags=("games",))
class GameForfeit(SimpleMetric):
    def compute_value(self, context: MetricContext) -> float:
        return 0.0 if _game(context).get("forfeit_seat") is None else 1.0


def _rate(stat: RunningStat) -> dict[str, Any]:
    out = stat.result()
    return {"value": out["value"], "ci95": out.get("ci95"), "n": out["count"]}


class _Record:
    def __init__(self) -> None:
        self.win, self.draw, self.loss, self.score = (RunningStat() for _ in range(4))

    def add(self, score: float) -> None:
        self.win.add(float(score == 1.0))
        self.draw.add(float(score == 0.5))
        self.loss.add(float(score == 0.0))
        self.score.add(score)

    def result(self) -> dict[str, Any]:
        n = self.score.n
        return {"games": n, "wins": int(sum(self.win.values)), "draws": int(sum(self.draw.values)),
                "losses": int(sum(self.loss.values)), "win_rate": _rate(self.win), "draw_rate": _rate(self.draw),
                "loss_rate": _rate(self.loss), "score": _rate(self.score)}


class _Player:
    def __init__(self, kind: str) -> None:
        self.type = kind
        self.all = _Record()
        self.by_seat: dict[str, _Record] = defaultdict(_Record)
        self.illegal_turn = RunningStat()  # per LLM turn: was the first answer refused
        self.illegal_game = RunningStat()  # per game: any refused answer
        self.illegal_attempts = self.moves = self.fallbacks = self.forfeits = 0
        self.length = RunningStat()
        self.tokens = {"prompt_tokens": 0, "completion_tokens": 0}
        self.llm_ms = 0.0

    def add(self, game: dict[str, Any], seat: int) -> None:
        score = float(game["scores"][seat])
        self.all.add(score)
        self.by_seat[game["seats"][seat]].add(score)
        mine = [e for e in game.get("moves", []) if e.get("seat") == seat]
        asked = [e for e in mine if e.get("attempts") and self.type == "llm"]
        for e in asked:
            self.illegal_turn.add(0.0 if e["legal_first_try"] else 1.0)
            self.llm_ms += sum(a.get("latency_ms") or 0 for a in e["attempts"])
        if self.type == "llm":
            self.illegal_game.add(1.0 if any(e["illegal_attempts"] for e in mine) else 0.0)
        self.illegal_attempts += sum(e["illegal_attempts"] for e in mine)
        self.moves += sum(1 for e in mine if not e.get("forfeit"))
        self.fallbacks += sum(e["source"] == "fallback" for e in mine)
        self.forfeits += game.get("forfeit_seat") == seat
        self.length.add(float(game.get("move_count", 0)))
        for key in self.tokens:
            self.tokens[key] += int((game.get("usage") or [{}, {}])[seat].get(key, 0))

    def result(self, name: str) -> dict[str, Any]:
        out = {"player": name, "type": self.type, **self.all.result(),
               "by_seat": {seat: rec.result() for seat, rec in sorted(self.by_seat.items())},
               "moves": self.moves, "illegal_attempts": self.illegal_attempts, "fallback_moves": self.fallbacks,
               "forfeits": self.forfeits, "average_length": self.length.result()["value"]}
        if self.type == "llm":
            out.update(illegal_move_rate=_rate(self.illegal_turn), illegal_game_rate=_rate(self.illegal_game),
                       tokens=self.tokens,
                       tokens_per_move=(sum(self.tokens.values()) / self.moves) if self.moves else None,
                       llm_ms_per_move=(self.llm_ms / self.moves) if self.moves else None)
        return out


@registry.asset("summary_generators", "game_arena", desc="game arena: per-player and per-seat win/draw/loss with "
                "CIs, illegal-move rates, forfeits, game length, Bradley-Terry ratings, replays", tags=("games",))
class GameArenaSummary:
    def __init__(self, adapter_id: str | None = None, arena: dict[str, Any] | None = None, **_: Any) -> None:
        self.adapter_id, self.arena = adapter_id, arena or {}
        report = self.arena.get("report") or {}
        self.replay_count = int(report.get("replay_games", 6))
        self.rounds = int(report.get("bootstrap_rounds", 1000))
        self.players: dict[str, _Player] = {}
        self.battles: list[dict[str, Any]] = []
        self.length = RunningStat()
        self.first_mover = _Record()
        self.games: list[tuple[str, dict[str, Any]]] = []
        self.failed = 0

    def add(self, record: dict[str, Any]) -> None:
        game = (record.get("model_output") or {}).get("game")
        if not isinstance(game, dict) or (self.adapter_id and game.get("arena", self.adapter_id) != self.adapter_id):
            if record.get("status") != "ok" and "players" in ((record.get("sample") or {}).get("inputs") or {}):
                self.failed += 1
            return
        names, types = game["players"], game.get("player_types") or ["?", "?"]
        for seat in (0, 1):
            self.players.setdefault(names[seat], _Player(types[seat])).add(game, seat)
        winner = {0: "model_a", 1: "model_b"}.get(game.get("winner_seat"), "tie")
        self.battles.append({"model_a": names[0], "model_b": names[1], "winner": winner,
                             "sample_id": record.get("sample_id")})
        self.length.add(float(game.get("move_count", 0)))
        self.first_mover.add(float(game["scores"][0]))
        self.games.append((str(record.get("sample_id")), game))

    def _ratings(self) -> dict[str, Any]:
        from gage_eval.arena.battles import ArenaError, matrix_rows, outcome_matrix
        from gage_eval.arena.ratings import bootstrap_ratings, leaderboard

        if len(self.players) < 2 or not self.battles:
            return {"leaderboard": [], "note": "no finished games between two players yet"}
        try:
            intervals = bootstrap_ratings(self.battles, "bt", rounds=self.rounds, seed=0)
            board = leaderboard(self.battles, intervals=intervals)
        except ArenaError as exc:
            return {"leaderboard": [], "error": exc.render()}
        return {"leaderboard": board, "win_matrix": matrix_rows(outcome_matrix(self.battles)),
                "rating_method": f"Bradley-Terry maximum likelihood over games (a draw is half a win), Elo scale; "
                                 f"95% percentile bootstrap, {self.rounds} rounds"}

    def _replays(self) -> list[dict[str, Any]]:
        if not self.replay_count or not self.games:
            return []
        from gage_eval.games.replay import replay_payload

        chosen = sorted(self.games, key=lambda g: g[0])[: self.replay_count]
        return [replay_payload(game_id, game, self.arena.get("environment") or {"game": game["game"]})
                for game_id, game in chosen]

    def result(self) -> dict[str, Any]:
        players = sorted((p.result(n) for n, p in self.players.items()),
                         key=lambda r: (-(r["score"]["value"] or 0), r["player"]))
        decisive = sum(1 for _, g in self.games if g.get("winner_seat") is not None)
        out = {"arena": self.adapter_id, "game": self.games[0][1]["game"] if self.games else
               (self.arena.get("environment") or {}).get("game"),
               "games": len(self.games), "failed_games": self.failed, "decisive": decisive,
               "draws": len(self.games) - decisive, "average_length": self.length.result(),
               "first_mover": self.first_mover.result(), "players": players, **self._ratings()}
        out["replays"] = self._replays()
        return out

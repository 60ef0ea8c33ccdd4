"""Pairwise battles between models and the counts built from them (win/tie/loss matrices, win rates).

A battle is one judged comparison of two models on one sample. Everything here is plain counting; the
rating fits live in `ratings.py`. Counts are weighted by `Battle.weight` (1 by default) and reported as
ints when every weight involved is whole, so JSON summaries stay readable.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from gage_eval.errors import GageError, close_match_hint

Winner = Literal["model_a", "model_b", "tie"]
WINNERS: tuple[str, ...] = get_args(Winner)
# Chatbot Arena logs "tie (bothbad)" for a tie where both answers were bad; for ratings it is a tie.
_WINNER_ALIASES = {"tie (bothbad)": "tie"}


class ArenaError(GageError, ValueError):
    """Battles or ratings input is unusable. Also a ValueError so plain-Python callers can catch it."""


@dataclass(frozen=True, slots=True)
class Battle:
    """One judged comparison: `winner` names the side that won, or "tie"."""

    model_a: str
    model_b: str
    winner: Winner
    sample_id: str | None = None
    weight: float = 1.0

    def __post_init__(self) -> None:
        where = f"battle {self.sample_id!r}" if self.sample_id is not None else "battle"
        for side in ("model_a", "model_b"):
            name = getattr(self, side)
            if not isinstance(name, str) or not name:
                raise ArenaError(f"{where}: {side} must be a non-empty model name, got {name!r}",
                                 fix="give both models of every battle a name")
        if self.model_a == self.model_b:
            raise ArenaError(f"{where}: model {self.model_a!r} battles itself",
                             fix="drop self-battles; a model compared with itself carries no rating information")
        if self.winner not in WINNERS:
            raise ArenaError(f"{where}: unknown winner {self.winner!r}; "
                             + close_match_hint(str(self.winner), WINNERS, label="allowed"),
                             fix="winner must be 'model_a', 'model_b' or 'tie'")
        weight = self.weight
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0:
            raise ArenaError(f"{where}: weight must be a finite number >= 0, got {weight!r}")

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> Battle:
        """Build from a JSON-like record (extra keys are ignored; "tie (bothbad)" reads as "tie")."""
        missing = [k for k in ("model_a", "model_b", "winner") if k not in record]
        if missing:
            raise ArenaError(f"battle record lacks {', '.join(missing)}: {dict(record)!r}",
                             fix="each battle needs model_a, model_b and winner")
        winner = record["winner"]
        winner = _WINNER_ALIASES.get(winner, winner) if isinstance(winner, str) else winner
        sample_id, weight = record.get("sample_id"), record.get("weight")
        return cls(model_a=record["model_a"], model_b=record["model_b"], winner=winner,
                   sample_id=None if sample_id is None else str(sample_id),
                   weight=1.0 if weight is None else weight)

    @property
    def score_a(self) -> float:
        """Model A's score: 1 for a win, 0.5 for a tie, 0 for a loss."""
        return 1.0 if self.winner == "model_a" else 0.5 if self.winner == "tie" else 0.0


def as_battles(battles: Iterable[Battle | Mapping[str, Any]]) -> list[Battle]:
    """Validate input battles (records or `Battle`s) and check there is something to rate.

    A single model cannot slip through: every battle has two different models (self-battles are refused).
    """
    out = [b if isinstance(b, Battle) else Battle.from_dict(b) for b in battles]
    if not out:
        raise ArenaError("no battles given", fix="collect at least one judged pair of model outputs")
    if sum(b.weight for b in out) <= 0:
        raise ArenaError("every battle has weight 0", fix="give battles positive weights")
    return out


def models_of(battles: Iterable[Battle]) -> list[str]:
    """Sorted names of every model that appears in a battle."""
    return sorted({m for b in battles for m in (b.model_a, b.model_b)})


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


@dataclass(frozen=True, slots=True)
class Record:
    """Outcomes of one model (or one model against one opponent), weighted."""

    wins: float = 0.0
    ties: float = 0.0
    losses: float = 0.0

    @property
    def games(self) -> float:
        return self.wins + self.ties + self.losses

    @property
    def win_rate(self) -> float:
        """Ties count half, as in Chatbot Arena and AlpacaEval. NaN when no games were played."""
        return (self.wins + 0.5 * self.ties) / self.games if self.games else math.nan

    def add(self, score: float, weight: float) -> Record:
        return Record(self.wins + weight * (score == 1.0), self.ties + weight * (score == 0.5),
                      self.losses + weight * (score == 0.0))

    def as_dict(self) -> dict[str, Any]:
        return {"wins": _num(self.wins), "ties": _num(self.ties), "losses": _num(self.losses),
                "games": _num(self.games), "win_rate": self.win_rate}


def outcome_matrix(battles: Iterable[Battle | Mapping[str, Any]]) -> dict[str, dict[str, Record]]:
    """matrix[m][o]: m's wins/ties/losses against o (both orientations filled; absent pairs omitted)."""
    out: dict[str, dict[str, Record]] = {}
    for b in as_battles(battles):
        for me, other, score in ((b.model_a, b.model_b, b.score_a), (b.model_b, b.model_a, 1.0 - b.score_a)):
            row = out.setdefault(me, {})
            row[other] = row.get(other, Record()).add(score, b.weight)
    return {m: dict(sorted(row.items())) for m, row in sorted(out.items())}


def win_rate_matrix(battles: Iterable[Battle | Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """matrix[m][o]: share of m's games against o that m won, ties counting half."""
    return {m: {o: r.win_rate for o, r in row.items()} for m, row in outcome_matrix(battles).items()}


def matrix_rows(matrix: Mapping[str, Mapping[str, Record]]) -> list[dict[str, Any]]:
    """The outcome matrix as a flat JSON-friendly list: one row per (model, opponent)."""
    return [{"model": m, "opponent": o, **r.as_dict()} for m, row in matrix.items() for o, r in row.items()]


def pair_counts(battles: Iterable[Battle | Mapping[str, Any]]) -> dict[tuple[str, str], Record]:
    """Per unordered pair (names sorted): the first model's wins/ties/losses against the second."""
    return {(m, o): r for m, row in outcome_matrix(battles).items() for o, r in row.items() if m < o}


def model_records(battles: Iterable[Battle | Mapping[str, Any]]) -> dict[str, Record]:
    """Each model's total wins/ties/losses over all its battles."""
    totals: dict[str, Record] = {}
    for m, row in outcome_matrix(battles).items():
        totals[m] = Record(sum(r.wins for r in row.values()), sum(r.ties for r in row.values()),
                           sum(r.losses for r in row.values()))
    return totals


def win_rates_vs_baseline(battles: Iterable[Battle | Mapping[str, Any]], baseline: str) -> dict[str, dict[str, Any]]:
    """Each model's record against `baseline`: win_rate (ties half), tie_rate, wins/ties/losses/games.

    Models that never met the baseline are left out; the baseline itself is not a row.
    """
    matrix = outcome_matrix(battles)
    if baseline not in matrix:
        raise ArenaError(f"baseline {baseline!r} is in no battle; " + close_match_hint(baseline, matrix, label="models"),
                         fix="pick a baseline model that took part in the battles")
    out: dict[str, dict[str, Any]] = {}
    for model, rec in matrix[baseline].items():
        mine = Record(wins=rec.losses, ties=rec.ties, losses=rec.wins)  # flip to the model's point of view
        out[model] = {**mine.as_dict(), "tie_rate": mine.ties / mine.games if mine.games else math.nan}
    return out

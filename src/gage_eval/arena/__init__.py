"""Pairwise model comparison: battles, Bradley-Terry / Elo ratings with bootstrap CIs, AlpacaEval's LC win
rate (statistics), and the arena itself (inputs from runs, ArenaConfig, judges, the leaderboard section).

Names are imported lazily: the registry imports the arena's role and summary modules at discovery, and
that must not pull in scipy. `leaderboard` (the ratings table) is not exported here: the submodule
`gage_eval.arena.leaderboard` shadows that name once the registry has imported it, so import it from
`gage_eval.arena.ratings`."""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ArenaError": "battles", "Battle": "battles", "Record": "battles", "as_battles": "battles",
    "matrix_rows": "battles", "model_records": "battles", "models_of": "battles", "outcome_matrix": "battles",
    "pair_counts": "battles", "win_rate_matrix": "battles", "win_rates_vs_baseline": "battles",
    "RatingInterval": "ratings", "bootstrap_ratings": "ratings", "compute_online_elo": "ratings",
    "fit_bradley_terry": "ratings",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(name)
    return getattr(importlib.import_module(f"gage_eval.arena.{_EXPORTS[name]}"), name)

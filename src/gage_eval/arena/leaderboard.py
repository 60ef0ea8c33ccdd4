"""`arena_leaderboard` summary section: battles from the judge verdicts in samples.jsonl, then the
leaderboard (Bradley–Terry and online Elo with bootstrap 95% CIs), win/tie/loss matrix, win rate against
the baseline, position-swap inconsistency, unparsed verdicts and the input gaps found when pairing runs.
In `single` mode: each model's mean judge score with its standard error and 95% CI."""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from gage_eval.metrics.aggregate import RunningStat
from gage_eval.registry import registry


def _score_row(stat: RunningStat) -> dict[str, Any]:
    """A model's mean score as every metric mean is reported: stderr (ddof=1) and normal 95% CI."""
    result = stat.result()
    low, high = result.get("ci95") or (None, None)
    return {"score": result["value"], "stderr": result["stderr"], "ci_low": low, "ci_high": high,
            "count": result["count"]}


@registry.asset("summary_generators", "arena_leaderboard", desc="arena ratings (Bradley-Terry, Elo, bootstrap "
                "CIs), win matrix, win rate vs baseline, inconsistency, gaps", tags=("arena", "judge"))
class ArenaLeaderboard:
    def __init__(self, mode: str = "pairwise-all", baseline: str | None = None, models: list[str] | None = None,
                 alignment: dict[str, Any] | None = None, bootstrap_rounds: int = 1000, seed: int = 0,
                 **_: Any) -> None:
        self.mode, self.baseline, self.models = mode, baseline, models or []
        self.alignment = alignment or {}
        self.rounds, self.seed = bootstrap_rounds, seed
        self.battles: list[dict[str, Any]] = []
        self.scores: dict[str, RunningStat] = defaultdict(lambda: RunningStat("mean"))
        self.unparsed = 0
        self.inconsistent = 0
        self.swapped = 0

    def add(self, record: dict[str, Any]) -> None:
        judge = record.get("judge_output") or {}
        if record.get("status") != "ok" or not judge:
            return
        if judge.get("unparsed"):
            self.unparsed += 1
            return
        if self.mode == "single":
            model = ((record.get("sample") or {}).get("inputs") or {}).get("model")
            if model is not None and judge.get("score") is not None:
                self.scores[model].add(float(judge["score"]))
            return
        winner = judge.get("winner")
        if winner not in ("model_a", "model_b", "tie"):
            return
        if judge.get("consistent") is not None:
            self.swapped += 1
            self.inconsistent += not judge["consistent"]
        self.battles.append({"model_a": judge["model_a"], "model_b": judge["model_b"], "winner": winner,
                             "sample_id": record.get("sample_id")})

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mode": self.mode, "baseline": self.baseline, "inputs": self.alignment,
                               "unparsed_verdicts": self.unparsed}
        if self.mode == "single":
            rows = sorted(({"model": m, **_score_row(stat)} for m, stat in self.scores.items()),
                          key=lambda r: -(r["score"] or 0))
            out["leaderboard"] = [{"rank": i + 1, **r} for i, r in enumerate(rows)]
            return out
        from gage_eval.arena.battles import ArenaError, matrix_rows, outcome_matrix
        from gage_eval.arena.ratings import (
            MIN_BATTLES,
            bootstrap_ratings,
            compute_online_elo,
            leaderboard,
        )

        out.update(battles=len(self.battles), judged_both_orders=self.swapped,
                   inconsistency_rate=self.inconsistent / self.swapped if self.swapped else None)
        if len({b["model_a"] for b in self.battles} | {b["model_b"] for b in self.battles}) < 2:
            out["leaderboard"] = []
            out["note"] = "no judged battles between two models yet"
            return out
        rounds = max(int(self.rounds), 1)
        try:
            intervals = bootstrap_ratings(self.battles, "bt", rounds=rounds, seed=self.seed)
        except ArenaError as exc:  # e.g. groups of models that never met: no joint rating exists
            out["leaderboard"] = []
            out["error"] = exc.render()
            out["win_matrix"] = matrix_rows(outcome_matrix(self.battles))
            return out
        out["leaderboard"] = board = leaderboard(self.battles, intervals=intervals, baseline=self.baseline)
        unrated = {r["model"]: r["insufficient_data"] for r in board if r.get("insufficient_data")}
        if unrated:
            out["insufficient_data"] = unrated
            out["insufficient_data_rule"] = (f"no rating for a model with fewer than {MIN_BATTLES} battles or a "
                                             "perfect record (all wins or all losses): its rating would be "
                                             "unbounded and its interval of zero width")
        elo = bootstrap_ratings(self.battles, "elo", rounds=min(rounds, 200), seed=self.seed)
        online = compute_online_elo(self.battles)
        out["elo"] = {m: ({"rating": None, "ci_low": None, "ci_high": None, "insufficient_data": unrated[m]}
                          if m in unrated else {"rating": online.get(m), "ci_low": iv.ci_low, "ci_high": iv.ci_high})
                      for m, iv in elo.items()}
        out["win_matrix"] = matrix_rows(outcome_matrix(self.battles))
        out["rating_method"] = (f"Bradley-Terry maximum likelihood (ties half a win), Elo scale; 95% percentile "
                                f"bootstrap over battles, {rounds} rounds, seed {self.seed}")
        return out

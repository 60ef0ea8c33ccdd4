"""`alpaca_eval_lc` summary section: AlpacaEval's win rate and length-controlled win rate of the model
against the baseline, from the pairwise judge's verdicts in samples.jsonl (computed by
`gage_eval.arena.length_control`, which reproduces the alpaca_eval package's GLM)."""
from __future__ import annotations

from typing import Any

from gage_eval.registry import registry

_PREFERENCE = {"model_a": 1.0, "model_b": 2.0, "tie": 1.5}  # alpaca_eval: 1 = baseline (output_1), 2 = model


def _solver() -> str:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return "exact"
    return "liblinear"


@registry.asset("summary_generators", "alpaca_eval_lc", desc="AlpacaEval 2 win rate and length-controlled win rate",
                tags=("judge", "alpaca_eval"))
class AlpacaEvalLC:
    """params: task_id (only that task's records), glm (length_controlled_v1 needs gamed_path: AlpacaEval's
    df_gamed.csv; without it length_controlled_minimal is used and the section says so), solver."""

    def __init__(self, task_id: str | None = None, glm: str = "length_controlled_v1", gamed_path: str | None = None,
                 solver: str | None = None, **_: Any) -> None:
        self.task_id, self.glm, self.gamed_path = task_id, glm, gamed_path
        self.solver = solver or _solver()
        self.rows: list[dict[str, Any]] = []
        self.unparsed = 0

    def add(self, record: dict[str, Any]) -> None:
        if self.task_id and record.get("task_id") != self.task_id or record.get("status") != "ok":
            return
        judge = record.get("judge_output") or {}
        if judge.get("unparsed"):
            self.unparsed += 1
            return
        sample = record.get("sample") or {}
        baseline = (sample.get("metadata") or {}).get("baseline_output")
        answer = (record.get("model_output") or {}).get("answer")
        if judge.get("winner") not in _PREFERENCE or baseline is None or answer is None:
            return
        self.rows.append({"output_1": baseline, "output_2": str(answer), "preference": _PREFERENCE[judge["winner"]],
                          "index": record.get("seq")})

    def result(self) -> dict[str, Any]:
        from gage_eval.arena.battles import ArenaError
        from gage_eval.arena.length_control import length_controlled_winrate

        out: dict[str, Any] = {"annotated": len(self.rows), "unparsed_verdicts": self.unparsed, "solver": self.solver}
        glm, note = self.glm, None
        if glm == "length_controlled_v1" and not self.gamed_path:
            glm, note = "length_controlled_minimal", ("length_controlled_v1 needs AlpacaEval's df_gamed.csv "
                                                      "(params.gamed_path); used length_controlled_minimal")
        rows = sorted(self.rows, key=lambda r: r["index"] if r["index"] is not None else -1)
        try:
            result = length_controlled_winrate(rows, glm=glm, gamed=self.gamed_path, solver=self.solver)  # type: ignore[arg-type]
        except ArenaError as exc:
            return {**out, "glm": glm, "error": str(exc), **({"note": note} if note else {})}
        return {**out, **result.as_dict(), **({"note": note} if note else {})}

"""`gaia_exact_match`: GAIA's quasi-exact match of the final answer (scorer.question_scorer).

The final answer is the text after the last "FINAL ANSWER:" of the reply (GAIA's prompt template); a reply
without one is scored as a whole with ``extract: auto`` (the default) and counted as unparsed; ``extract: none``
scores the whole reply as the leaderboard scores a submitted ``model_answer``.
"""
from __future__ import annotations

from typing import Any

from gage_eval.benchmarks.gaia.scorer import extract_final_answer, question_scorer
from gage_eval.metrics.base import MetricContext, SimpleMetric
from gage_eval.registry import registry


@registry.asset("metrics", "gaia_exact_match", desc="GAIA's official quasi-exact match (numbers, lists, strings) "
                "of the FINAL ANSWER", tags=("gaia", "agents"))
class GaiaExactMatch(SimpleMetric):
    def __init__(self, metric_id: str, extract: str = "auto") -> None:
        super().__init__(metric_id, extract=extract)
        if extract not in ("auto", "none"):
            raise ValueError(f"extract must be 'auto' or 'none', not {extract!r}")
        self.extract = extract

    def compute_value(self, context: MetricContext) -> tuple[float, dict[str, Any]]:
        reply = context.prediction
        truth = str(context.sample.label)
        answer = extract_final_answer(reply) if self.extract == "auto" else reply
        details: dict[str, Any] = {"answer": answer, "ground_truth": truth, "level": context.sample.metadata.get("level")}
        if answer is None:
            details["unparsed"] = True
            answer = reply
        return (1.0 if question_scorer(answer, truth) else 0.0), details

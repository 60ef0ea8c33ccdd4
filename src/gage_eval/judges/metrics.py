"""Metrics over judge verdicts. Unparsed verdicts give NaN (left out of the mean) and are counted by the
`unparsed_answers` summary section — they are never scored as a loss or a tie."""
from __future__ import annotations

from gage_eval.metrics.base import Metric, MetricContext, MetricResult
from gage_eval.registry import registry

_NAN = float("nan")


@registry.asset("metrics", "pairwise_win", desc="win rate of model_b over model_a from a pairwise_judge verdict "
                "(tie = 0.5); also reports position-swap inconsistency", tags=("judge", "pairwise"))
class PairwiseWin(Metric):
    """Values: `<id>` (1 / 0.5 / 0 for model_b), `<id>_ties`, `<id>_inconsistent` (both orders judged and they
    disagreed). params: side = model_b (default) or model_a."""

    def evaluate(self, context: MetricContext) -> MetricResult:
        judge = context.judge_output
        winner = judge.get("winner")
        side = self.params.get("side", "model_b")
        if winner is None:
            return MetricResult({self.metric_id: _NAN}, {"unparsed": True})
        value = 0.5 if winner == "tie" else float(winner == side)
        consistent = judge.get("consistent")
        return MetricResult({self.metric_id: value, f"{self.metric_id}_ties": float(winner == "tie"),
                             f"{self.metric_id}_inconsistent": _NAN if consistent is None else float(not consistent)},
                            {"winner": winner})


@registry.asset("metrics", "judge_verdict", desc="a binary judge's 1/0 verdict (judge_output.<field>); NaN and "
                "counted as unparsed when the judge gave none", tags=("judge",))
class JudgeVerdict(Metric):
    """params: field (default score), or fields: [a, b] for 1 only when every verdict is 1 (e.g. TruthfulQA's
    truthful-and-informative)."""

    def evaluate(self, context: MetricContext) -> MetricResult:
        fields = self.params.get("fields") or [self.params.get("field", "score")]
        values = [context.judge_output.get(f) for f in fields]
        if any(v is None for v in values):
            return MetricResult({self.metric_id: _NAN}, {"unparsed": True})
        return MetricResult({self.metric_id: float(all(float(v) == 1.0 for v in values)) if len(values) > 1
                             else float(values[0])})

"""`chartqa_relaxed`: ChartQA's relaxed accuracy (Methani et al. 2020; Qwen-VL's evaluate_vqa.py, as
lmms-eval 0.7.3's chartqa runs it): a prediction and an answer that both read as numbers (a trailing ``%``
divides by 100) are equal within 5% of the answer; otherwise they must be equal ignoring case. As in the
reference, the text is not stripped or cleaned first (``float`` itself ignores surrounding whitespace).

Values: ``relaxed_overall`` on every sample, and ``relaxed_human_split`` or ``relaxed_augmented_split`` by the
record's ``type`` (their means are the two split scores).
"""
from __future__ import annotations

from typing import Any

from gage_eval.metrics.base import Metric, MetricContext, MetricResult
from gage_eval.registry import registry


def _to_float(text: str) -> float | None:
    try:
        return float(text.rstrip("%")) / 100.0 if text.endswith("%") else float(text)
    except ValueError:
        return None


def relaxed_correctness(prediction: str, target: str, max_relative_change: float = 0.05) -> bool:
    pred, gold = _to_float(prediction), _to_float(target)
    if pred is not None and gold:
        return abs(pred - gold) / abs(gold) <= max_relative_change
    return prediction.lower() == target.lower()


@registry.asset("metrics", "chartqa_relaxed", desc="ChartQA relaxed accuracy (5% numeric tolerance), overall and "
                "per split (human / augmented)", tags=("multimodal", "vqa"))
class ChartQARelaxed(Metric):
    def __init__(self, metric_id: str, tolerance: float = 0.05, **params: Any) -> None:
        super().__init__(metric_id, tolerance=tolerance, **params)
        self.tolerance = float(tolerance)

    def evaluate(self, context: MetricContext) -> MetricResult:
        references = [str(r) for r in context.references]
        if not references:
            raise ValueError(f"sample {context.sample.id!r} has no answer to compare with")
        score = 1.0 if relaxed_correctness(context.prediction, references[0], self.tolerance) else 0.0
        split = "relaxed_human_split" if context.sample.metadata.get("type") == "human_test" else \
            "relaxed_augmented_split"
        return MetricResult({"relaxed_overall": score, split: score})

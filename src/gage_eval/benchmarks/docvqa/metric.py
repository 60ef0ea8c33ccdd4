"""`anls`: Average Normalized Levenshtein Similarity, as the DocVQA evaluator (via Qwen-VL's
infographicsvqa_eval.py) and lmms-eval 0.7.3's ``anls`` metric compute it, per sample:

    1 - min over the accepted answers of  lev(norm(gold), norm(pred)) / max(len(gold), len(pred))

where norm lower-cases, strips and collapses whitespace, and the lengths are those of the raw strings (as the
reference does); a value under the threshold (0.5) counts 0. The mean over samples is the benchmark's ANLS.
"""
from __future__ import annotations

from typing import Any

from gage_eval.metrics.base import Metric, MetricContext, MetricResult
from gage_eval.registry import registry


def levenshtein(a: str, b: str) -> int:
    if len(a) > len(b):
        a, b = b, a
    previous = list(range(len(a) + 1))
    for j, cb in enumerate(b, start=1):
        current = [j]
        for i, ca in enumerate(a, start=1):
            current.append(min(previous[i] + 1, current[i - 1] + 1, previous[i - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def anls(references: list[str], prediction: str, threshold: float = 0.5) -> tuple[float, int]:
    """(score, index of the closest reference)."""
    det = " ".join(prediction.strip().lower().split())
    values = []
    for answer in references:
        gt = " ".join(answer.strip().lower().split())
        length = max(len(answer.upper()), len(prediction.upper()))
        values.append(0.0 if length == 0 else levenshtein(gt, det) / length)
    best = min(range(len(values)), key=values.__getitem__)
    score = 1 - values[best]
    return (0.0 if score < threshold else score), best


@registry.asset("metrics", "anls", desc="Average Normalized Levenshtein Similarity over the accepted answers "
                "(DocVQA / InfographicVQA), threshold 0.5 (params.threshold)", tags=("multimodal", "vqa"))
class ANLS(Metric):
    def __init__(self, metric_id: str, threshold: float = 0.5, **params: Any) -> None:
        super().__init__(metric_id, threshold=threshold, **params)
        if not 0 <= float(threshold) <= 1:
            raise ValueError(f"'threshold' must lie in [0, 1], not {threshold!r}")
        self.threshold = float(threshold)

    def evaluate(self, context: MetricContext) -> MetricResult:
        references = [str(r) for r in context.references]
        if not references:
            raise ValueError(f"sample {context.sample.id!r} has no accepted answers (DocVQA's test split has none: "
                             "score the validation split, or submit test predictions to the official server)")
        score, best = anls(references, context.prediction, self.threshold)
        return MetricResult({self.metric_id: score}, {"closest": references[best][:200]})

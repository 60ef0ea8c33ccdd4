"""`mmmu_accuracy`: MMMU's official scoring per sample (scoring.py): the option letter parsed from a
multiple-choice answer equals the gold letter; an open answer's parsed candidates contain the normalized gold
answer (numbers compared to 2 decimals, strings as substrings). Mean over samples = the official
instance-level accuracy; per subject / discipline through the template's metric_breakdown sections.

details: ``parsed`` (the letter, or the open candidates), ``random_guess`` / ``unparsed`` when no letter was
found and one was drawn (seeded by the sample id)."""
from __future__ import annotations

import random
from typing import Any

from gage_eval.benchmarks.mmmu.scoring import choice_info, eval_multi_choice, eval_open, parse_multi_choice, parse_open
from gage_eval.metrics.base import Metric, MetricContext, MetricResult
from gage_eval.registry import registry


def score(response: str, question_type: str, options: list[str], gold: Any, seed: str) -> tuple[bool, dict[str, Any]]:
    if question_type == "multiple-choice":
        index2ans, letters = choice_info(options)
        letter, parsed = parse_multi_choice(response, letters, index2ans, random.Random(seed))
        details: dict[str, Any] = {"parsed": letter}
        if not parsed:
            details.update(random_guess=True, unparsed=True)
        return eval_multi_choice(gold, letter), details
    candidates = parse_open(response)
    return eval_open(gold, candidates), {"parsed": [str(c) for c in candidates][:20]}


@registry.asset("metrics", "mmmu_accuracy", desc="MMMU's official parsing and scoring (multiple choice and open)",
                tags=("multimodal",))
class MMMUAccuracy(Metric):
    def evaluate(self, context: MetricContext) -> MetricResult:
        sample = context.sample
        meta = sample.metadata
        gold = sample.label if sample.label is not None else (context.references or [""])[0]
        correct, details = score(context.prediction, str(meta.get("question_type", "open")),
                                 list(meta.get("options") or []), gold, f"mmmu:{sample.id}")
        return MetricResult({self.metric_id: 1.0 if correct else 0.0}, details)

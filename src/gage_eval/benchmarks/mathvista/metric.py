"""`mathvista_accuracy`: MathVista's official scoring: the extracted answer, normalized to the answer type
(an option's text, an integer, a float rounded to the problem's precision, a list as text), equals the
answer as text.

The extraction is the judge's (``judge_output.extraction``, from the ``mathvista_extraction_judge`` role with the
official LLM prompt) when a judge step ran, else the rules of rules.py. details: ``extraction``,
``prediction`` (normalized), ``source`` (direct / rule / judge / none; ``unparsed`` for none).
"""
from __future__ import annotations

from typing import Any

from gage_eval.benchmarks.mathvista.official import normalize_extracted, safe_equal
from gage_eval.benchmarks.mathvista.rules import rule_extraction
from gage_eval.metrics.base import Metric, MetricContext, MetricResult
from gage_eval.registry import registry


def problem_of(metadata: dict[str, Any]) -> dict[str, Any]:
    return {"question_type": metadata.get("question_type", "free_form"),
            "answer_type": metadata.get("answer_type", "text"), "choices": metadata.get("choices") or [],
            "precision": metadata.get("precision"), "query": metadata.get("query", "")}


@registry.asset("metrics", "mathvista_accuracy", desc="MathVista: extracted answer (rules, or the judge's official "
                "LLM extraction) normalized to the answer type equals the answer", tags=("multimodal", "math"))
class MathVistaAccuracy(Metric):
    def evaluate(self, context: MetricContext) -> MetricResult:
        problem = problem_of(context.sample.metadata)
        judged = context.judge_output.get("extraction") if isinstance(context.judge_output, dict) else None
        if judged is not None:
            extraction, source = str(judged), str(context.judge_output.get("extraction_source", "judge"))
        else:
            extraction, source = rule_extraction(context.prediction, problem)
        prediction = normalize_extracted(extraction, problem["choices"], problem["question_type"],
                                         problem["answer_type"], problem["precision"])
        answer = context.sample.label
        correct = answer is not None and safe_equal(prediction, answer)
        details: dict[str, Any] = {"extraction": str(extraction)[:300], "prediction": prediction, "source": source}
        if source == "none":
            details["unparsed"] = True
        return MetricResult({self.metric_id: 1.0 if correct else 0.0}, details)

"""Built-in metrics: exact_match, regex_match, multi_choice_accuracy, latency, judge_score."""
from __future__ import annotations

import re
from typing import Any

from gage_eval.metrics.base import MetricContext, SimpleMetric
from gage_eval.metrics.choice_letters import extract_choice, letter_details, reading_context
from gage_eval.registry import registry


def _normalize(text: Any, case_sensitive: bool, strip_whitespace: bool) -> str:
    text = "" if text is None else str(text)
    if strip_whitespace:
        text = " ".join(text.split())
    return text if case_sensitive else text.casefold()


class _PredictionMetric(SimpleMetric):
    """Reads the prediction from `prediction_field` (default model_output.answer)."""

    def prediction(self, context: MetricContext) -> str:
        field = self.params.get("prediction_field", "model_output.answer")
        return str(context.get(field, default="") or "")

    def references(self, context: MetricContext) -> list[Any]:
        field = self.params.get("reference_field")
        if field:
            value = context.get(field)
            return value if isinstance(value, list) else ([] if value is None else [value])
        return context.references


@registry.asset("metrics", "exact_match", desc="prediction equals a reference (case/whitespace options)",
                tags=("text",))
class ExactMatch(_PredictionMetric):
    def compute_value(self, context: MetricContext) -> tuple[float, dict[str, Any]]:
        cs = bool(self.params.get("case_sensitive", False))
        strip = bool(self.params.get("strip_whitespace", True))
        pred = _normalize(self.prediction(context), cs, strip)
        refs = [_normalize(r, cs, strip) for r in self.references(context)]
        return (1.0 if pred in refs else 0.0), {"prediction": pred[:200]}


@registry.asset("metrics", "regex_match", desc="prediction matches `pattern`, or the extracted group equals "
                "the reference when compare_to_reference is true", tags=("text",))
class RegexMatch(_PredictionMetric):
    def __init__(self, metric_id: str, **params: Any) -> None:
        super().__init__(metric_id, **params)
        flags = re.IGNORECASE if params.get("ignore_case") else 0
        self._pattern = re.compile(params.get("pattern", r"(.*)"), flags | re.S)

    def compute_value(self, context: MetricContext) -> tuple[float, dict[str, Any]]:
        pred = self.prediction(context)
        match = self._pattern.search(pred)
        if not self.params.get("compare_to_reference"):
            return (1.0 if match else 0.0), {}
        if not match:
            return 0.0, {"extracted": None, "unparsed": True}
        extracted = (match.group(1) if match.groups() else match.group(0)).strip()
        refs = [str(r).strip() for r in self.references(context)]
        if self.params.get("ignore_case"):
            extracted, refs = extracted.casefold(), [r.casefold() for r in refs]
        return (1.0 if extracted in refs else 0.0), {"extracted": extracted}


def _label_letter(label: Any, choices: list[Any]) -> str | None:
    if isinstance(label, int) and not isinstance(label, bool):
        return chr(ord("A") + label)
    label = str(label).strip()
    if len(label) == 1 and label.isalpha():
        return label.upper()
    if label.isdigit():
        return chr(ord("A") + int(label))
    for i, choice in enumerate(choices):
        text = choice.get("text") if isinstance(choice, dict) else choice
        if str(text).strip() == label:
            return chr(ord("A") + i)
    return None


@registry.asset("metrics", "multi_choice_accuracy", desc="letter extracted from the answer equals the label",
                tags=("multiple_choice",))
class MultiChoiceAccuracy(_PredictionMetric):
    def compute_value(self, context: MetricContext) -> tuple[float, dict[str, Any]]:
        choices = context.sample.choices
        n = len(choices) or 26
        refs = self.references(context)
        gold = _label_letter(refs[0], choices) if refs else None
        found = extract_choice(self.prediction(context), n, **reading_context(context.sample, n))
        pred = found.letter
        return (1.0 if pred is not None and pred == gold else 0.0), {"pred": pred, "gold": gold,
                                                                      "unparsed": pred is None,
                                                                      **letter_details(found)}


@registry.asset("metrics", "latency", desc="model call latency in ms (model_output.latency_ms)", tags=("perf",))
class Latency(SimpleMetric):
    def compute_value(self, context: MetricContext) -> float:
        value = context.get(self.params.get("field", "model_output.latency_ms"))
        return float("nan") if value is None else float(value)


@registry.asset("metrics", "judge_score", desc="pass a judge's numeric verdict through (judge_output.<field>)",
                tags=("judge",))
class JudgeScore(SimpleMetric):
    def compute_value(self, context: MetricContext) -> tuple[float, dict[str, Any]]:
        value = context.get(f"judge_output.{self.params.get('field', 'score')}")
        try:
            return float(value), {}
        except (TypeError, ValueError):
            return float("nan"), {"unparsed": True}

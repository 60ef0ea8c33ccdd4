"""Log-likelihood multiple-choice metrics, defined exactly as lm-evaluation-harness defines them.

The dut in ``mode: loglikelihood`` writes ``model_output.loglikelihoods`` (one per option, in option order).
`acc` takes the arg-max log-likelihood, `acc_norm` the arg-max of log-likelihood divided by the option's
length in characters (lm-eval: ``len(choice)`` of ``doc_to_choice``, without the target delimiter), and
`acc_bytes` divides by the UTF-8 byte length. Ties go to the first option, as ``numpy.argmax`` does.
"""
from __future__ import annotations

import math

from gage_eval.metrics.base import Metric, MetricContext, MetricResult
from gage_eval.metrics.choice_letters import extract_choice, letter_details, reading_context
from gage_eval.registry import registry


def gold_indices(context: MetricContext) -> list[int]:
    """Gold option index(es): ``metadata.gold_index`` (int or list), else the label letter."""
    gold = context.sample.metadata.get("gold_index")
    if gold is None:
        label = context.sample.label
        if isinstance(label, str) and len(label.strip()) == 1 and label.strip().isalpha():
            gold = ord(label.strip().upper()) - ord("A")
        elif isinstance(label, int) and not isinstance(label, bool):
            gold = label
    if gold is None:
        return []
    return [int(g) for g in gold] if isinstance(gold, list) else [int(gold)]


def option_texts(context: MetricContext) -> list[str]:
    """The options as lm-eval's doc_to_choice gives them (their lengths normalize acc_norm)."""
    texts = context.sample.metadata.get("choice_texts")
    if texts:
        return [str(t) for t in texts]
    return [str(c.get("text", "")) if isinstance(c, dict) else str(c) for c in context.sample.choices]


@registry.asset("metrics", "mc_accuracy", desc="multiple choice in either mode: acc, acc_norm (length-normalized), "
                "acc_bytes of log-likelihood scoring as lm-evaluation-harness computes them; acc of the letter "
                "extracted from a generated answer", tags=("multiple_choice",))
class MultipleChoiceAccuracy(Metric):
    """params: outputs (default [acc, acc_norm]); any of acc, acc_norm, acc_bytes, exact_match (greedy gold).

    Without log-likelihoods (the dut generated text) only `acc` is reported, from the option letter the
    answer names (rule: metrics/choice_letters.py); an answer naming no option, several options, or only
    repeating the option list scores 0 and is counted as unparsed, with the reason in details `extraction`."""

    def evaluate(self, context: MetricContext) -> MetricResult:
        outputs = self.params.get("outputs") or ["acc", "acc_norm"]
        lls = context.model_output.get("loglikelihoods")
        gold = gold_indices(context)
        if not lls and gold:
            return self._generative(context, gold)
        if not lls or not gold:
            return MetricResult({name: 0.0 for name in outputs},
                                {"unparsed": True, "reason": "no loglikelihoods" if not lls else "no gold option"})
        lls = [float(x) for x in lls]
        texts = option_texts(context)
        if len(texts) != len(lls):
            texts = [str(c) for c in context.model_output.get("continuations", [])] or texts
        import numpy as np  # imported on first use: registry discovery at start-up must not pay for numpy

        arr = np.array(lls, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            # numpy division exactly as lm-eval: an empty option gives -inf (or nan), never a silent length of 1.
            preds = {
                "acc": int(np.argmax(arr)),
                "acc_norm": int(np.argmax(arr / np.array([len(t) for t in texts], dtype=float))),
                "acc_bytes": int(np.argmax(arr / np.array([len(t.encode("utf-8")) for t in texts], dtype=float))),
            }
        greedy = context.model_output.get("is_greedy") or []
        values: dict[str, float | list[float]] = {}
        for name in outputs:
            if name == "exact_match":
                values[name] = float(any(greedy[g] for g in gold if g < len(greedy)))
            else:
                values[name] = 1.0 if preds[name] in gold else 0.0
        return MetricResult(values, {"pred": preds["acc"], "pred_norm": preds["acc_norm"], "gold": gold})

    @staticmethod
    def _generative(context: MetricContext, gold: list[int]) -> MetricResult:
        # The letter rule (echoes, hedges, ambiguity) is documented in metrics/choice_letters.py.
        n = min(len(context.sample.choices) or 26, 26)
        found = extract_choice(str(context.model_output.get("answer") or ""), n,
                               **reading_context(context.sample, n))
        pred = None if found.letter is None else ord(found.letter) - ord("A")
        return MetricResult({"acc": 1.0 if pred in gold else 0.0},
                            {"pred": pred, "gold": gold, "unparsed": pred is None, **letter_details(found)})


@registry.asset("metrics", "mc2", desc="TruthfulQA MC2: normalized probability mass of the true options "
                "(metadata.mc2_labels, 1 = true)", tags=("multiple_choice", "truthfulqa"))
class TruthfulQAMC2(Metric):
    def evaluate(self, context: MetricContext) -> MetricResult:
        lls = context.model_output.get("loglikelihoods")
        labels = context.sample.metadata.get("mc2_labels")
        if not lls or not labels or len(labels) != len(lls):
            return MetricResult({self.metric_id: 0.0}, {"unparsed": True, "reason": "loglikelihoods/labels missing "
                                                        "or of different lengths"})
        # lm-eval's process_results_mc2 normalizes exp(ll) over all options; shifting by the max first gives the
        # same value (to rounding) and, unlike exp(ll) itself, does not underflow to 0/0 for long options.
        top = max(lls)
        probs = [math.exp(ll - top) for ll in lls]
        total = math.fsum(probs)
        true_mass = math.fsum(p for p, label in zip(probs, labels) if int(label) == 1)
        return MetricResult({self.metric_id: true_mass / total})

"""The `math_verify_accuracy` metric: HuggingFace math-verify's ``verify(parse(gold), parse(prediction))``.

- gold: the sample's reference answer (MATH-500's ``answer``, MATH's last ``\\boxed{}`` of the solution),
  wrapped as ``\\boxed{answer}`` so math-verify extracts exactly it (a reference that already contains
  ``\\boxed`` is passed as is);
- prediction: the whole model output, parsed with math-verify's defaults (LaTeX then plain expressions;
  ``\\boxed{}`` and "final answer is" anchors first);
- value ``accuracy``: 1.0 when math-verify finds them equal (numbers, fractions vs decimals, sets,
  intervals, matrices, equations, percentages...), else 0.0.

details: ``extracted`` (what was parsed from the output), ``gold``; ``unparsed`` when nothing could be
extracted from the output (scored 0); ``gold_unparsed`` when the reference itself does not parse;
``error`` for a timeout or a worker failure (scored 0); ``warnings`` from math-verify (e.g. a timeout).

Scoring runs in math-verify worker processes (verify_pool.py) and `aevaluate` waits for them from a thread,
so the event loop never blocks and math-verify keeps its own signal-based timeouts.

params: parsing_timeout (s, default 5, math-verify's; null = none), timeout_seconds (s per comparison,
default 5), float_rounding (6), numeric_precision (15), strict (true), gold_extraction / pred_extraction
(lists of "latex", "expr"; default both), workers (processes; default min(4, cpus)), deadline (s before a
worker is killed, default 60), prediction_field (default model_output.answer).
"""
from __future__ import annotations

import asyncio
import importlib.util
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from gage_eval.benchmarks.math500.verify_pool import shared_pool
from gage_eval.errors import ConfigError
from gage_eval.metrics.base import Metric, MetricContext, MetricResult
from gage_eval.registry import registry

_EXTRACTIONS = ("latex", "expr")
_KNOWN = {"parsing_timeout", "timeout_seconds", "float_rounding", "numeric_precision", "strict",
          "gold_extraction", "pred_extraction", "workers", "deadline", "prediction_field"}


def gold_text(reference: Any) -> str:
    text = str(reference)
    return text if "\\boxed" in text else f"\\boxed{{{text}}}"


def _optional_seconds(params: dict[str, Any], key: str) -> int | None:
    value = params.get(key, 5)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise ValueError(f"'{key}' must be a whole number of seconds or null, not {value!r}")
    return value


def _extraction(params: dict[str, Any], key: str) -> list[str]:
    names = params.get(key, list(_EXTRACTIONS))
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not names or any(n not in _EXTRACTIONS for n in names):
        raise ValueError(f"'{key}' must be a non-empty list of {', '.join(_EXTRACTIONS)}, not {names!r}")
    return list(names)


@registry.asset("metrics", "math_verify_accuracy", desc="math-verify equivalence of the model's final answer "
                "(\\boxed{} etc.) with the reference answer: value 'accuracy'; unparsed when no answer found",
                tags=("math",))
class MathVerifyAccuracy(Metric):
    def __init__(self, metric_id: str, **params: Any) -> None:
        super().__init__(metric_id, **params)
        if importlib.util.find_spec("math_verify") is None:  # else every sample would silently score 0
            raise ConfigError("metric math_verify_accuracy needs the math-verify package", path="metrics",
                              fix="pip install math-verify (it is a dependency of gage-eval: reinstall it)")
        unknown = set(params) - _KNOWN
        if unknown:
            raise ValueError(f"unknown parameters {sorted(unknown)} (known: {', '.join(sorted(_KNOWN))})")
        workers = params.get("workers")
        workers = min(4, os.cpu_count() or 1) if workers is None else workers
        deadline = float(params.get("deadline", 60))
        if not isinstance(workers, int) or workers < 1 or deadline <= 0:
            raise ValueError("'workers' must be a positive integer and 'deadline' a positive number of seconds")
        self.request: dict[str, Any] = {
            "parsing_timeout": _optional_seconds(params, "parsing_timeout"),
            "timeout_seconds": _optional_seconds(params, "timeout_seconds"),
            "float_rounding": int(params.get("float_rounding", 6)),
            "numeric_precision": int(params.get("numeric_precision", 15)),
            "strict": bool(params.get("strict", True)),
            "gold_extraction": _extraction(params, "gold_extraction"),
            "pred_extraction": _extraction(params, "pred_extraction"),
        }
        self.workers, self.deadline = workers, deadline
        self.prediction_field = str(params.get("prediction_field", "model_output.answer"))
        self._threads: ThreadPoolExecutor | None = None

    def evaluate(self, context: MetricContext) -> MetricResult:
        references = context.references
        if not references:
            raise ValueError(f"sample {context.sample.id!r} has no reference answer: math_verify_accuracy needs "
                             "sample.references (or label), e.g. from params.preprocess: math500 / math")
        output = context.get(self.prediction_field, "")
        output = output if isinstance(output, str) else str(output)
        pool = shared_pool(self.workers, self.deadline)
        best: dict[str, Any] | None = None
        for reference in references:  # several references: correct if any matches
            reply = pool.score({**self.request, "gold": gold_text(reference), "pred": output})
            reply["reference"] = str(reference)
            if best is None or (reply.get("correct") and not best.get("correct")):
                best = reply
            if reply.get("correct"):
                break
        assert best is not None
        return self._result(best)

    async def aevaluate(self, context: MetricContext) -> MetricResult:
        if self._threads is None:
            self._threads = ThreadPoolExecutor(self.workers, thread_name_prefix="math-verify")
        return await asyncio.get_running_loop().run_in_executor(self._threads, self.evaluate, context)

    @staticmethod
    def _result(reply: dict[str, Any]) -> MetricResult:
        pred, gold = reply.get("pred") or [], reply.get("gold") or []
        details: dict[str, Any] = {
            "extracted": (pred[-1] if pred else None),
            "gold": reply["reference"][:200],
            "unparsed": "error" not in reply and not pred,
        }
        if "error" in reply:
            details["error"] = reply["error"]
        elif not gold:
            details["gold_unparsed"] = True
        if reply.get("warnings"):
            details["warnings"] = reply["warnings"][:5]
        return MetricResult({"accuracy": 1.0 if reply.get("correct") else 0.0}, details)

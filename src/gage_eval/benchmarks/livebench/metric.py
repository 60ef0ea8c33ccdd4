"""The `livebench` metric: one LiveBench question's ground-truth score, ``livebench_score`` in [0, 1].

The scorer is chosen from the question's task (see `scoring`); the answer is ``model_output.answer``
without its ``<think>`` blocks. Details: category, task, scorer, status (scored | eval_error | unscored),
what was read from the answer, a note, and the reason for an error or an unscored question. An unscored
question gets no value at all (so no mean counts it); the `livebench` summary section counts it.
Per-task, per-category and overall scores on LiveBench's 0-100 scale are computed from these values by the
`livebench` summary generator (`summary.py`).

params: sympy_timeout_s (60: a symbolic comparison taking longer counts as not equivalent), coding_memory_mb
(4096: address-space limit of a coding answer's program).
"""
from __future__ import annotations

from typing import Any

from gage_eval.benchmarks.livebench.equivalence import DEFAULT_TIMEOUT_S
from gage_eval.benchmarks.livebench.scoring import Settings, score_question, task_key
from gage_eval.metrics.base import Metric, MetricContext, MetricResult
from gage_eval.registry import registry

SCORE = "livebench_score"


def _question_text(context: MetricContext) -> str:
    for message in reversed(context.sample.messages):
        if message.role == "user":
            return message.text()
    return str(context.sample.inputs.get("prompt") or "")


def _short(value: Any) -> Any:
    text = value if isinstance(value, str) else None
    return text[-300:] if text is not None and len(text) > 300 else value


@registry.asset("metrics", "livebench", desc="LiveBench ground-truth scorers per task (math, reasoning, data "
                "analysis, language, instruction following, coding in the sandbox): livebench_score in [0, 1]",
                tags=("livebench",))
class LiveBenchMetric(Metric):
    def __init__(self, metric_id: str, sympy_timeout_s: float = DEFAULT_TIMEOUT_S,
                 coding_memory_mb: int = 4096) -> None:
        if not sympy_timeout_s > 0 or not coding_memory_mb > 0:
            raise ValueError("sympy_timeout_s and coding_memory_mb must be positive")
        super().__init__(metric_id, sympy_timeout_s=sympy_timeout_s, coding_memory_mb=coding_memory_mb)
        self.settings = Settings(float(sympy_timeout_s), int(coding_memory_mb))

    def evaluate(self, context: MetricContext) -> MetricResult:
        raise TypeError("the livebench metric scores asynchronously (code runs in the sandbox): call aevaluate")

    async def aevaluate(self, context: MetricContext) -> MetricResult:
        metadata = context.sample.metadata
        if "task" not in metadata or "category" not in metadata:
            raise ValueError(f"sample {context.sample.id!r} has no metadata.task / metadata.category: the livebench "
                             "metric needs LiveBench questions read with params.preprocess: livebench")
        answer = context.get("model_output.answer", "")
        outcome = await score_question(metadata, _question_text(context),
                                       answer if isinstance(answer, str) else str(answer), self.settings)
        details: dict[str, Any] = {"category": metadata["category"], "task": metadata["task"],
                                   "subtask": task_key(metadata), "scorer": outcome.scorer, "status": outcome.status}
        if outcome.verdict is not None:
            details["parsed"] = _short(outcome.verdict.parsed)
            if outcome.verdict.note:
                details["note"] = outcome.verdict.note
            details["unparsed"] = outcome.verdict.parsed is None and outcome.score == 0.0
            if outcome.verdict.flag:
                details["flag"] = outcome.verdict.flag
        if outcome.reason:
            details["reason"] = outcome.reason
        values = {} if outcome.score is None else {SCORE: outcome.score}
        return MetricResult(values, details)

"""Failed and wrong samples grouped by cause, for `gage triage` and the run page of `gage view`.

Every failed sample (status failed) falls in exactly one group named by its failure class — the `error.reason`
the engine records (engine/failures.py: `HTTP 5xx`, `timeout`, `connection refused`, ...; a judge's backend
failure is prefixed `judge:`), or `sandbox error` when the code sandbox could not run. So the failed groups add
up to summary.json's failures. A finished sample that is not right lands in the first group that explains it:
empty output, truncated at max tokens (finish_reason length), judge unparsed, unparsed answer (a metric found no
answer), else wrong answer. "Right" is the task's primary metric (the first 0/1 metric, as the sample browser
uses) equal to 1; tasks without a 0/1 metric (judge scores) only report the first four causes.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from gage_eval.engine.failures import generic_fix

EXAMPLES = 2
_SLUG = re.compile(r"[^a-z0-9]+")

_WRONG_FIX = {
    "empty output": "the model answered nothing: check its chat template, stop strings and max_tokens",
    "truncated at max tokens": "raise max_tokens (role_adapters[dut].params.generation.max_tokens) and rerun these",
    "judge unparsed": "the judge did not write a verdict in the expected format: raise parse_retries or use a "
                      "stronger judge; these samples are left out of the judge's mean",
    "unparsed answer": "the metric found no answer in the output: align the prompt's instruction with what the "
                       "metric reads (letter, '#### N', \\boxed{})",
    "wrong answer": None,
}


@dataclass
class TriageGroup:
    kind: str  # failed | wrong
    cause: str
    fix: str | None = None
    count: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)
    samples: list[tuple[str, str]] = field(default_factory=list)  # (task_id, sample_id)

    @property
    def slug(self) -> str:
        return f"{self.kind}-{_SLUG.sub('-', self.cause.lower()).strip('-')}"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "cause": self.cause, "slug": self.slug, "count": self.count, "fix": self.fix,
                "examples": self.examples}


def _preview(text: Any, limit: int = 160) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def failure_cause(error: dict[str, Any]) -> str:
    reason = str(error.get("reason") or error.get("type") or "unknown")
    message = str(error.get("message") or "")
    if "sandbox" in message.lower() and error.get("step") == "auto_eval":
        return "sandbox error"
    return f"judge: {reason}" if error.get("step") == "judge" else reason


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return None if math.isnan(value) else float(value)


def wrong_cause(record: dict[str, Any], primary: str | None) -> str | None:
    """The cause a finished sample is not right, or None when it is right (or nothing is known against it)."""
    metrics = record.get("metrics") or {}
    score = _number(metrics.get(primary)) if primary else None
    if score is not None and score >= 1.0:
        return None
    output = record.get("model_output") or {}
    answer = output.get("answer")
    details = record.get("metric_details") or {}
    judge = record.get("judge_output") or {}
    if isinstance(answer, str) and not answer.strip() and not output.get("loglikelihoods"):
        return "empty output"
    if output.get("finish_reason") == "length":
        return "truncated at max tokens"
    if judge.get("unparsed"):
        return "judge unparsed"
    if any(isinstance(d, dict) and d.get("unparsed") for d in details.values()):
        return "unparsed answer"
    return "wrong answer" if score is not None else None


class Triage:
    def __init__(self) -> None:
        self.groups: dict[tuple[str, str], TriageGroup] = {}
        self.failed = 0
        self.wrong = 0
        self.seen = 0

    def add(self, record: dict[str, Any], primary: str | None) -> None:
        self.seen += 1
        task, sample = str(record.get("task_id", "?")), str(record.get("sample_id", "?"))
        if record.get("status", "ok") != "ok":
            error = record.get("error") if isinstance(record.get("error"), dict) else {}
            cause, kind = failure_cause(error), "failed"
            fix = error.get("fix") or generic_fix(str(error.get("reason") or ""))
            example = {"task_id": task, "sample_id": sample, "text": _preview(error.get("message"))}
            self.failed += 1
        else:
            cause = wrong_cause(record, primary)
            if cause is None:
                return
            kind, fix = "wrong", _WRONG_FIX.get(cause)
            output = record.get("model_output") or {}
            text = (record.get("judge_output") or {}).get("judge_raw") if cause == "judge unparsed" else \
                output.get("answer")
            example = {"task_id": task, "sample_id": sample, "text": _preview(text) or "(empty)"}
            self.wrong += 1
        group = self.groups.get((kind, cause))
        if group is None:
            group = self.groups[(kind, cause)] = TriageGroup(kind, cause, fix)
        group.count += 1
        group.samples.append((task, sample))
        if len(group.examples) < EXAMPLES:
            group.examples.append(example)

    def ordered(self) -> list[TriageGroup]:
        """Failed groups first, then wrong ones; the largest first within each."""
        return sorted(self.groups.values(), key=lambda g: (g.kind != "failed", -g.count, g.cause))

    def as_dict(self) -> dict[str, Any]:
        return {"samples": self.seen, "failed": self.failed, "wrong": self.wrong,
                "groups": [g.as_dict() for g in self.ordered()]}

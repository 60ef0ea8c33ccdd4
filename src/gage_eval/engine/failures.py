"""Failed samples by reason class, and what they make of a run's status.

A run is `completed` when no sample failed, `completed_with_failures` when some did, `failed` when every
sample failed or the run itself stopped on an error, `interrupted` on Ctrl-C / SIGTERM. Whether a partial
failure fails the command is the failure-rate threshold's decision (`--max-failure-rate`, see README).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

COMPLETED = "completed"
COMPLETED_WITH_FAILURES = "completed_with_failures"
FAILED = "failed"
INTERRUPTED = "interrupted"
FINISHED_STATUSES = (COMPLETED, COMPLETED_WITH_FAILURES)  # every sample was attempted

# 0: a failed sample is left out of every metric, so the score silently covers a subset of the benchmark
# (biased toward the samples that did not trip the fault). Failing the command costs one rerun with the same
# --run-id, which redoes only the failed samples.
DEFAULT_MAX_FAILURE_RATE = 0.0

# What to do about a failure class when the failing component said nothing more specific.
_GENERIC_FIX = {
    "connection refused": "start the model server, or correct the host and port in base_url",
    "connection error": "check the host name and the network path to the server",
    "timeout": "raise the request timeout or lower the concurrency",
    "HTTP 401": "set a valid API key (api_key_env / --api-key-env)",
    "HTTP 403": "set an API key allowed to use this model (api_key_env / --api-key-env)",
    "HTTP 404": "check base_url, the model name and api (chat | completions)",
    "HTTP 429": "lower the concurrency, or rerun the same --run-id later to redo the failed samples",
    "HTTP 5xx": "check the server's logs; rerun the same --run-id to redo the failed samples",
    "non-JSON reply": "base_url must be the API root of an OpenAI-compatible server, usually ending in /v1",
}


def generic_fix(reason: str) -> str | None:
    """What to do about a failure class when the failing component said nothing more specific."""
    return _GENERIC_FIX.get(reason)


@dataclass
class FailureClass:
    reason: str
    count: int = 0
    first_message: str = ""
    first_sample: str | None = None
    step: str | None = None
    fix: str | None = None
    first_seq: float = float("inf")  # the example is the earliest sample in dataset order, not in finishing order

    def as_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "count": self.count, "first_message": self.first_message,
                "first_sample": self.first_sample, "step": self.step, "fix": self.fix}


@dataclass
class FailureTally:
    """Failed sample records grouped by `error.reason` (older records: `error.type`), most frequent first."""

    classes: dict[str, FailureClass] = field(default_factory=dict)

    def add(self, record: dict[str, Any]) -> None:
        err = record.get("error") if isinstance(record.get("error"), dict) else {}
        reason = str(err.get("reason") or err.get("type") or "unknown")
        entry = self.classes.get(reason)
        if entry is None:
            entry = self.classes[reason] = FailureClass(reason)
        seq = record.get("seq")
        seq = float(seq) if isinstance(seq, int) else float("inf")
        if entry.count == 0 or seq < entry.first_seq:
            # Concurrent (or distributed) workers finish in any order; the earliest sample keeps the summary stable.
            entry.first_message, entry.first_sample = str(err.get("message") or "")[:500], record.get("sample_id")
            entry.step, entry.fix, entry.first_seq = err.get("step"), err.get("fix") or _GENERIC_FIX.get(reason), seq
        entry.count += 1

    def merge(self, other: FailureTally) -> None:
        for reason, entry in other.classes.items():
            mine = self.classes.get(reason)
            if mine is None:
                self.classes[reason] = FailureClass(**{**entry.__dict__})
            else:
                mine.count += entry.count

    def as_list(self) -> list[dict[str, Any]]:
        return [c.as_dict() for c in sorted(self.classes.values(), key=lambda c: (-c.count, c.first_seq))]


def settle_status(status: str, error: dict[str, Any] | None, sample_count: int, failures: dict[str, Any],
                  max_failure_rate: float) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
    """The run's final status and error from how its samples ended, and the failure-rate verdict.

    Only a run that ran to its end is re-judged here; a run stopped by an error or the user keeps its status.
    """
    failed = int(failures.get("total") or 0)
    rate = failed / sample_count if sample_count else 0.0
    verdict = {"failure_rate": rate, "max_failure_rate": max_failure_rate,
               "failure_rate_exceeded": status in FINISHED_STATUSES and failed > 0 and rate > max_failure_rate}
    if status != COMPLETED or failed == 0:
        return status, error, verdict
    top = (failures.get("classes") or [{}])[0]
    cause = f"{top.get('reason', 'unknown')}: {top.get('first_message', '')}"
    if failed == sample_count:
        return FAILED, {"type": "AllSamplesFailed", "reason": top.get("reason"),
                        "message": f"all {failed} samples failed — {cause}", "fix": top.get("fix")}, verdict
    if verdict["failure_rate_exceeded"]:
        error = {"type": "FailureRateExceeded", "reason": top.get("reason"),
                 "message": f"{failed} of {sample_count} samples failed ({rate:.1%} > max failure rate "
                            f"{max_failure_rate:.1%}); most often {cause}",
                 "fix": f"{top.get('fix') or 'see the failures in summary.json'}; rerun the same --run-id to redo "
                        "only the failed samples, or raise --max-failure-rate"}
    return COMPLETED_WITH_FAILURES, error, verdict

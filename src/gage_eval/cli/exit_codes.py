"""Exit codes of `gage run`, `gage eval`, `gage arena` and run.py (the README lists them).

Distinct codes let a CI job tell "fix the config" from "the server is down" from "a few samples failed".
"""
from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gage_eval.engine.runtime import RunResult


class ExitCode(IntEnum):
    OK = 0  # every sample scored, or failures within --max-failure-rate
    RUN_FAILED = 1  # the run failed: pre-flight, every sample failed, fail_fast stop, an unexpected error
    CONFIG_ERROR = 2  # bad config, options or input files: nothing (more) was run; GageError.exit_code
    PARTIAL_FAILURE = 3  # the run finished, but more samples failed than --max-failure-rate allows
    INTERRUPTED = 130  # Ctrl-C or SIGTERM; rerun the same --run-id to resume (RunInterrupted.exit_code)


def exit_code_for(result: RunResult) -> int:
    run = result.summary.get("run") or {}
    if result.status == "interrupted":
        return ExitCode.INTERRUPTED
    if result.status == "failed":
        return ExitCode.RUN_FAILED
    if run.get("failure_rate_exceeded"):
        return ExitCode.PARTIAL_FAILURE
    return ExitCode.OK

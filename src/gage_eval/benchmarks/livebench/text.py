"""Answer-extraction helpers shared by the LiveBench scorers, with the behaviour of LiveBench's
``process_results/util.py`` (``last_boxed_only_string``, ``remove_boxed``, ``levenshtein_distance``) and
the answer clean-up every task gets first (reasoning traces in ``<think>...</think>`` dropped)."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gage_eval.benchmarks.math500.boxed import last_boxed_only_string as hendrycks_last_boxed
from gage_eval.benchmarks.math500.boxed import remove_boxed as hendrycks_remove_boxed

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)


class ScoringError(ValueError):
    """Where LiveBench's scorer raises (a ``\\boxed`` without its braces, a ground truth of the wrong shape):
    LiveBench records an evaluation error with score 0, and so do we (``details.error``)."""


class SandboxUnavailable(RuntimeError):
    """The code sandbox cannot run programs here: the sample fails (a 0 would blame the model)."""


class Unscorable(Exception):
    """A question this implementation cannot score (the message says why): counted as unscored, never 0."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """One question's score in [0, 1] and what was read from the answer (for the sample's details)."""

    score: float
    parsed: Any = None
    note: str = ""
    flag: str = ""  # a condition the summary counts, e.g. "llm_fallback": LiveBench would have asked an LLM


def strip_thinking(answer: str) -> str:
    return _THINK.sub("", answer)


def last_boxed_only_string(text: str) -> str | None:
    """Hendrycks' helper (as MATH's, `benchmarks/math500/boxed.py`) with LiveBench's change: a braced box loses
    its ``$`` signs and an ``\\fbox`` is renamed ``\\boxed``. None when there is none or its braces never close."""
    found = hendrycks_last_boxed(text)
    if found is None or found.startswith("\\boxed "):
        return found
    return found.replace("$", "").replace("fbox", "boxed")


def remove_boxed(boxed: str) -> str:
    """The box's content; LiveBench asserts where the helper finds no well-formed box: an evaluation error."""
    content = hendrycks_remove_boxed(boxed)
    if content is None:
        raise ScoringError(f"malformed \\boxed answer: {str(boxed)[:60]!r}")
    return content


def solution_tags(text: str, *, flags: int = 0) -> list[str]:
    """Every ``<solution>...</solution>`` body (non-greedy; without re.DOTALL a body cannot span lines)."""
    return re.findall(r"<solution>(.*?)</solution>", text, flags)


def levenshtein(a: Sequence[Any], b: Sequence[Any]) -> int:
    """Edit distance of two sequences (insert, delete, substitute: cost 1), elements compared with ``==``."""
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            current[j] = previous[j - 1] if a[i - 1] == b[j - 1] else 1 + min(previous[j], current[j - 1],
                                                                            previous[j - 1])
        previous = current
    return previous[len(b)]

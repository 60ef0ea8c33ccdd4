"""Strict verdict parsers. Each returns None when the text holds no verdict or contradictory ones: a
judge that writes both "[[A]]" and "[[B]]" has not decided, and guessing would bias the result."""
from __future__ import annotations

import re

_PAIRWISE = re.compile(r"\[\[\s*(A|B|C|TIE)\s*\]\]", re.IGNORECASE)
_BINARY = re.compile(r"\[\[\s*(CORRECT|INCORRECT|YES|NO|TRUE|FALSE)\s*\]\]", re.IGNORECASE)
_BINARY_VALUE = {"CORRECT": 1.0, "YES": 1.0, "TRUE": 1.0, "INCORRECT": 0.0, "NO": 0.0, "FALSE": 0.0}
DEFAULT_SCORE_PATTERN = r"Rating:\s*\[\[\s*(-?\d+(?:\.\d+)?)\s*\]\]"


def parse_pairwise(text: str, allow_tie: bool = True) -> str | None:
    """"A", "B" or "tie" (MT-Bench's [[A]] / [[B]] / [[C]]); None if absent, contradictory or a disallowed tie."""
    found = {"tie" if m.upper() in ("C", "TIE") else m.upper() for m in _PAIRWISE.findall(text or "")}
    if len(found) != 1:
        return None
    verdict = found.pop()
    return None if verdict == "tie" and not allow_tie else verdict


def parse_binary(text: str) -> float | None:
    """1.0 for [[CORRECT]]/[[YES]]/[[TRUE]], 0.0 for the negatives; None if absent or contradictory."""
    found = {_BINARY_VALUE[m.upper()] for m in _BINARY.findall(text or "")}
    return found.pop() if len(found) == 1 else None


def parse_score(text: str, pattern: re.Pattern[str], low: float | None = None, high: float | None = None
                ) -> float | None:
    """The number of the LAST `Rating: [[N]]` (judges sometimes quote the format first); None when absent
    or outside [low, high]."""
    matches = pattern.findall(text or "")
    if not matches:
        return None
    last = matches[-1]
    value = float(last[0] if isinstance(last, tuple) else last)
    if (low is not None and value < low) or (high is not None and value > high):
        return None
    return value

"""GAIA's quasi-exact match, as the official leaderboard scores a submitted answer
(scorer.py of the gaia-benchmark/leaderboard space; reimplemented, checked against fixtures derived from its rules):

- a ground truth that parses as a float is a number: the answer loses ``$``, ``%`` and ``,`` and must parse to the
  same float (an answer that does not parse is +inf, never equal);
- a ground truth holding ``,`` or ``;`` is a list: both are split on ``,`` / ``;``, must have as many elements, and
  each element compares as a number (ground-truth element parses as a float) or as a string with whitespace
  removed and case folded (punctuation kept);
- anything else is a string: whitespace and ASCII punctuation removed, case folded, then equal.

A missing answer (None) is scored as the string "None", as the official scorer does.
"""
from __future__ import annotations

import re
import string

_PUNCTUATION = str.maketrans("", "", string.punctuation)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def normalize_number(text: str) -> float:
    for char in ("$", "%", ","):
        text = text.replace(char, "")
    try:
        return float(text)
    except ValueError:
        return float("inf")


def normalize_text(text: str, remove_punct: bool = True) -> str:
    text = re.sub(r"\s", "", text).lower()
    return text.translate(_PUNCTUATION) if remove_punct else text


def split_list(text: str) -> list[str]:
    return re.split(r"[,;]", text)


def question_scorer(model_answer: str | None, ground_truth: str) -> bool:
    answer = "None" if model_answer is None else model_answer
    if _is_float(ground_truth):
        return normalize_number(answer) == float(ground_truth)
    if "," in ground_truth or ";" in ground_truth:
        truth_items, answer_items = split_list(ground_truth), split_list(answer)
        if len(truth_items) != len(answer_items):
            return False
        return all(normalize_number(a) == float(t) if _is_float(t)
                   else normalize_text(a, remove_punct=False) == normalize_text(t, remove_punct=False)
                   for a, t in zip(answer_items, truth_items))
    return normalize_text(answer) == normalize_text(ground_truth)


_FINAL = re.compile(r"FINAL ANSWER\s*:", re.IGNORECASE)


def extract_final_answer(text: str) -> str | None:
    """The text after the last "FINAL ANSWER:" (GAIA's prompt asks for that template); None when absent."""
    matches = list(_FINAL.finditer(text or ""))
    if not matches:
        return None
    answer = text[matches[-1].end():].strip()
    return answer.strip("*` ").strip() if answer else answer

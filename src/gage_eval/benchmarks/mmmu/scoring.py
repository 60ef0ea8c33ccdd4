"""MMMU's official answer parsing and scoring (MMMU-Benchmark/MMMU eval/eval_utils.py at 51ce7f3, as
lmms-eval 0.7.3 runs it), reimplemented and checked sample by sample against lmms-eval's functions
(tests/test_mm_scorers_lmms.py).

One deliberate change: when no option letter or text can be found in a multiple-choice answer, the official
code draws a random letter from the process-wide `random` state, so the score depends on the order samples
were scored in. Here the draw comes from a `random.Random` seeded by the sample id: the same answer scores
the same in every run, order and concurrency; the sample is flagged as unparsed either way.
"""
from __future__ import annotations

import random
import re
from typing import Any

DISCIPLINES: dict[str, list[str]] = {
    "Art and Design": ["Art", "Art_Theory", "Design", "Music"],
    "Business": ["Accounting", "Economics", "Finance", "Manage", "Marketing"],
    "Science": ["Biology", "Chemistry", "Geography", "Math", "Physics"],
    "Health and Medicine": ["Basic_Medical_Science", "Clinical_Medicine", "Diagnostics_and_Laboratory_Medicine",
                            "Pharmacy", "Public_Health"],
    "Humanities and Social Science": ["History", "Literature", "Sociology", "Psychology"],
    "Tech and Engineering": ["Agriculture", "Architecture_and_Engineering", "Computer_Science", "Electronics",
                             "Energy_and_Power", "Materials", "Mechanical_Engineering"],
}
SUBJECTS = [s for subjects in DISCIPLINES.values() for s in subjects]
DISCIPLINE_OF = {s: d for d, subjects in DISCIPLINES.items() for s in subjects}


def choice_info(options: list[str]) -> tuple[dict[str, str], list[str]]:
    """(letter -> option text, letters) for the options in order."""
    letters = [chr(ord("A") + i) for i in range(len(options))]
    return dict(zip(letters, options)), letters


def parse_multi_choice(response: str, all_choices: list[str], index2ans: dict[str, str],
                       rng: random.Random) -> tuple[str, bool]:
    """(letter, parsed): the official parse; `parsed` is False when the letter was a random draw."""
    for char in (",", ".", "!", "?", ";", ":", "'"):
        response = response.strip(char)
    response = " " + response + " "
    index_ans, ans_with_brack = True, False
    candidates = [c for c in all_choices if f"({c})" in response]
    if candidates:
        ans_with_brack = True
    if not candidates:
        candidates = [c for c in all_choices if f"{c} " in response]
    if not candidates:
        candidates = [c for c in all_choices if f"{c}." in response]
    if not candidates and len(response.split()) > 5:
        candidates = [i for i, ans in index2ans.items() if ans.lower() in response.lower()]
        index_ans = not candidates
    if not candidates:
        return rng.choice(all_choices), False
    if len(candidates) == 1:
        return candidates[0], True
    if index_ans:
        starts = [response.rfind(f"({c})") if ans_with_brack else response.rfind(f" {c} ") for c in candidates]
    else:
        starts = [response.lower().rfind(index2ans[c].lower()) for c in candidates]
    return candidates[starts.index(max(starts))], True  # numpy.argmax: the first of equal maxima


def extract_numbers(text: str) -> list[str]:
    with_commas = re.findall(r"-?\b\d{1,3}(?:,\d{3})+\b", text)
    scientific = re.findall(r"-?\d+(?:\.\d+)?[eE][+-]?\d+", text)
    simple = re.findall(r"-?(?:\d+\.\d+|\.\d+|\d+\b)(?![eE][+-]?\d+)(?![,\d])", text)
    return with_commas + scientific + simple


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
        return True
    except ValueError:
        return False


def normalize_str(text: str) -> list[Any]:
    text = text.strip()
    if _is_number(text):
        return [round(float(text.replace(",", "")), 2)]
    text = text.lower()
    return [" " + text, text + " "] if len(text) == 1 else [text]


_KEY_INDICATORS = ("could be ", "so ", "is ", "thus ", "therefore ", "final ", "answer ", "result ")
_TRIVIAL = {":", ",", ".", "!", "?", ";", "'"}


def _key_subresponses(response: str) -> list[str]:
    response = response.strip().strip(".").lower()
    pieces = re.split(r"\.\s(?=[A-Z])|\n", response)
    keys = []
    for index, piece in enumerate(pieces):
        indicators = list(_KEY_INDICATORS) + (["="] if index == len(pieces) - 1 else [])
        shortest = None
        for indicator in indicators:
            if indicator in piece:
                tail = piece.split(indicator)[-1].strip()
                if not shortest or len(tail) < len(shortest):
                    shortest = tail
        if shortest and shortest.strip() not in _TRIVIAL:
            keys.append(shortest)
    return keys or [response]


def parse_open(response: str) -> list[Any]:
    """Candidate answers of an open question: key sub-responses, the numbers in them, normalized, de-duplicated."""
    keys = _key_subresponses(response)
    candidates: list[str] = list(keys)
    for key in keys:
        candidates.extend(extract_numbers(key))
    normalized: list[Any] = []
    for candidate in candidates:
        normalized.extend(normalize_str(candidate))
    return list(set(normalized))


def eval_multi_choice(gold: Any, pred: str) -> bool:
    return pred in gold if isinstance(gold, list) else gold == pred


def eval_open(gold: Any, preds: list[Any]) -> bool:
    answers: list[Any] = []
    for answer in gold if isinstance(gold, list) else [gold]:
        answers.extend(normalize_str(answer))
    for pred in preds:
        if isinstance(pred, str):
            if any(isinstance(a, str) and a in pred for a in answers):
                return True
        elif pred in answers:
            return True
    return False


def subject_of(sample_id: str) -> str:
    """`validation_Art_Theory_12` -> `Art_Theory` (lmms-eval's extract_subset_name)."""
    split = sample_id.split("_")[0]
    match = re.search(rf"^{re.escape(split)}_(.+?)_\d+$", sample_id)
    if not match:
        raise ValueError(f"MMMU id {sample_id!r} is not <split>_<subject>_<n>")
    return match.group(1)

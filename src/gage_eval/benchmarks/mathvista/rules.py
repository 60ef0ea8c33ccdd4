"""Answer extraction by rules, for MathVista runs without an extraction model (the default).

The official evaluation asks GPT to extract the answer whenever its few direct rules (official.py
`direct_extraction`: the response is an option's text, an integer or a float, or reads `The answer is "X".`)
do not settle it. Here, instead, these rules run next, in order:

1. a ``\\boxed{X}`` (the last one) or an explicit answer phrase — the last ``answer is X`` / ``answer: X`` /
   ``Answer: X`` (also ``final answer``, ``答案是`` / ``答案：``) — narrows the text to X;
2. multiple choice: a leading capital option letter (``B``, ``(B)``, ``B.``, ``B)``, ``B:``), else the last ``(B)`` in
   the text, else the option whose text occurs last; what remains goes to the official normalization
   (letter -> option, else the closest option by edit distance);
3. integer / float: the last number of the narrowed text (``1,234`` -> ``1234``, ``-0.5``, ``.5``, ``12%`` -> 12);
4. list: the last ``[...]``;
5. anything else: the narrowed text.

With an extraction model (the ``mathvista_judge`` template), the official LLM extraction replaces steps 1-5.
"""
from __future__ import annotations

import re
from typing import Any

from gage_eval.benchmarks.mathvista.official import direct_extraction

_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")
_ANSWER = re.compile(r"(?:final\s+answer|answer)\s*(?:is|:|：|=)\s*(.+)|答案\s*(?:是|为|：|:)\s*(.+)",
                     re.IGNORECASE)
_LEADING_LETTER = re.compile(r"^(?:\(([A-Z])\)|([A-Z])(?:[.):：]|$))")
_BRACKET_LETTER = re.compile(r"\(([A-Z])\)")
_NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?|-?\.\d+")
_LIST = re.compile(r"\[[^\[\]]*\]")


def narrowed(response: str) -> str:
    """The part of the response that states the answer (step 1), or the whole response."""
    boxed = _BOXED.findall(response)
    if boxed:
        return boxed[-1].strip()
    matches = list(_ANSWER.finditer(response))
    if matches:
        text = next(g for g in matches[-1].groups() if g is not None)
        return text.strip().splitlines()[0].strip().rstrip(".。").strip()
    return response.strip()


def _choice(text: str, whole: str, choices: list[str]) -> str:
    letters = [chr(ord("A") + i) for i in range(len(choices))]
    lead = _LEADING_LETTER.match(text)
    letter = lead and (lead.group(1) or lead.group(2))
    if letter and letter in letters:
        return letter
    bracketed = [m for m in _BRACKET_LETTER.findall(text) if m in letters] or \
        [m for m in _BRACKET_LETTER.findall(whole) if m in letters]
    if bracketed:
        return bracketed[-1]
    lowered = whole.lower()
    found = [(lowered.rfind(c.lower()), c) for c in choices if c and c.lower() in lowered]
    if found:
        return max(found)[1]
    return text


def _number(text: str) -> str | None:
    numbers = _NUMBER.findall(text)
    return numbers[-1].replace(",", "") if numbers else None


def rule_extraction(response: str, problem: dict[str, Any]) -> tuple[str, str]:
    """(extraction, how): how is ``direct`` (the official rules), ``rule`` (the rules above) or ``none``
    (nothing recognisable: the whole response is handed to normalization)."""
    response = response.strip()
    direct = direct_extraction(response, problem, quick_extract=True)
    if direct is not None:
        return direct, "direct" if direct else "none"
    text = narrowed(response)
    if problem["question_type"] == "multi_choice":
        choice = _choice(text, response, list(problem.get("choices") or []))
        return choice, "rule" if choice != text or len(text) <= 3 else "none"
    if problem["answer_type"] in ("integer", "float"):
        number = _number(text) or _number(response)
        return (number, "rule") if number is not None else (text, "none")
    if problem["answer_type"] == "list":
        lists = _LIST.findall(text) or _LIST.findall(response)
        return (lists[-1], "rule") if lists else (text, "none")
    return text, "rule" if text != response else "none"

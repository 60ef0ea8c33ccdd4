"""LiveBench math: competition multiple choice (AMC / SMC), AIME, olympiad proof rearrangement (IMO / USAMO,
partial credit by edit distance) and the answer extraction of AMPS_Hard and integrals_with_game, whose
symbolic comparison runs in `equivalence` (a worker process, so a runaway simplification can be stopped).

Each function mirrors LiveBench's ``process_results/math/*/utils.py`` rule for rule; see README.md for the
differences (no LLM tie-breaker for AMPS_Hard).
"""
from __future__ import annotations

import re

from gage_eval.benchmarks.livebench.text import (
    ScoringError,
    Verdict,
    last_boxed_only_string,
    levenshtein,
    remove_boxed,
    solution_tags,
)

_CHOICES = {"a", "b", "c", "d", "e"}
_TEXTBF_OPTION = re.compile(r"\\textbf{\(([A-E])\)\s?}(.*?)(?:\\qquad|\$)")


def _single_letter_solution(answer: str, truth: str) -> bool:
    """A ``<solution>`` body made of one repeated character that is the answer (``<solution>BBBBB</solution>``)."""
    found = solution_tags(answer)
    if not found:
        return False
    chars = set(found[-1])
    return len(chars) == 1 and next(iter(chars)).lower() == truth.lower()


def option_value(statement: str, letter: str) -> str:
    """The text of option `letter` in an AMC statement (``\\textbf{(B) }12 \\qquad``); "FAILURE" when absent."""
    options = {m[0]: m[1].strip() for m in _TEXTBF_OPTION.findall(statement)}
    value = options.get(letter) or "FAILURE"
    return value.strip().strip("$").strip("~")


def math_contest(truth: str, answer: str, question: str) -> Verdict:
    """AMC / SMC multiple choice: the letter five times, a single-letter <solution>, a boxed letter, the option's
    value near the end, or the letter alone (or in parentheses) on the last line."""
    if not (isinstance(truth, str) and len(truth) == 1 and "A" <= truth <= "E"):
        raise ScoringError(f"the ground truth of a multiple-choice contest question must be one letter A-E, not "
                           f"{truth!r}")
    if _single_letter_solution(answer, truth) or truth * 4 in answer:
        return Verdict(1.0, truth)
    answer = answer.replace("\\\\fbox{", "\\\\boxed{")
    boxed = last_boxed_only_string(answer)
    if boxed:
        letter = remove_boxed(boxed).replace("\\text{", "").replace("}", "").replace("\\", "").lower()
        if letter in _CHOICES and letter == truth.lower():
            return Verdict(1.0, letter.upper(), "boxed")
    value = option_value(question, truth)
    if value in answer[-(20 + len(value)):]:
        return Verdict(1.0, value, "option value at the end")
    last_line = answer.strip().split("\n")[-1]
    if last_line.strip().replace("*", "").lower() == truth.lower():
        return Verdict(1.0, truth, "last line")
    if "(" in last_line and ")" in last_line:
        inner = last_line.split("(")[1].split(")")[0]
        if inner.lower() == truth.lower():
            return Verdict(1.0, truth, "last line, in parentheses")
    return Verdict(0.0, None, "no matching letter")


def aime(truth: str, answer: str) -> Verdict:
    """AIME: a single-character <solution> equal to the answer, or the answer within the last 50 characters."""
    if _single_letter_solution(answer, truth) or truth in answer[-50:]:
        return Verdict(1.0, truth)
    return Verdict(0.0, None, "answer not in the last 50 characters")


def _digits_only(text: str) -> tuple[str, int]:
    """The first run of digits and how many characters were not part of it."""
    start = 0
    while start < len(text) and not text[start].isdigit():
        start += 1
    end = start
    while end < len(text) and text[end].isdigit():
        end += 1
    return text[start:end], len(text) - (end - start)


def _numbers_or_none(numbers: list[int | str]) -> list[int | str] | None:
    return None if not numbers or set(numbers) == {"NO ANSWER"} else numbers


def _parse_int(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        return "NO ANSWER"


def expression_ids(generation: str) -> list[int | str]:
    """The comma-separated expression identifiers of a proof-rearrangement answer: after the last ``Answer:``
    line, else in the last \\boxed{}, else on the last line, else after the last ``answer:`` anywhere."""
    numbers = None
    lowered = generation.lower()
    if "answer:" in lowered:
        lines = lowered.strip().split("\n")
        index = max(i for i, line in enumerate(lines) if "answer:" in line)
        text = lines[index].split("answer:")[1].replace("answer:", "").replace("**", "").replace(".", "").strip()
        if text == "" and index < len(lines) - 1:
            text = lines[index + 1].replace("answer:", "").replace("**", "").replace(".", "").strip()
        parsed = []
        for item in text.split(","):
            item = item.strip().split(" ")[-1]
            for junk in ("$", "{", "}", "\\", "boxed", "<", ">"):
                item = item.replace(junk, "")
            parsed.append(_parse_int(item))
        numbers = _numbers_or_none(parsed)
    if numbers is None and "\\boxed" in generation:
        boxed = last_boxed_only_string(generation)
        text = remove_boxed(boxed) if boxed is not None else generation
        text = text.replace("\\text{", "").replace("}", "").replace("\\", "")
        numbers = _numbers_or_none([_parse_int(n.strip()) for n in text.strip().split(",")])
    if numbers is None:
        parsed = []
        for item in lowered.strip().split("\n")[-1].strip().split(","):
            digits, _ = _digits_only(item)
            if digits.strip():
                parsed.append(_parse_int(digits.strip()))
        numbers = _numbers_or_none(parsed)
    if numbers is None:
        numbers = []
        for i, item in enumerate(k.strip() for k in lowered.split("answer:")[-1].split(",")):
            digits, removed = _digits_only(item)
            if digits not in ("", "₂"):
                numbers.append(int(digits))  # a digit int() rejects (e.g. "²") raises, as in LiveBench
            if i > 0 and removed > 0:
                break
    return numbers


def proof_rearrangement(truth: str, answer: str) -> Verdict:
    """IMO / USAMO: 1 - edit distance between the answered and the true order of the proof's missing expressions,
    over the longer of the two (partial credit)."""
    expected = [int(n) for n in truth.split(",")]
    given = expression_ids(answer)
    longer = max(len(given), len(expected))
    score = 1 - levenshtein(given, expected) / longer if longer else 0.0
    return Verdict(float(score), given)


def normalize_final_answer(final_answer: str) -> str:
    """Minerva's normalization (Lewkowycz et al. 2022, appendix D), as LiveBench's AMPS_Hard applies it."""
    final_answer = final_answer.split("=")[-1]
    final_answer = re.sub(r"(.*?)(\$)(.*?)(\$)(.*)", "$\\3$", final_answer)
    final_answer = re.sub(r"(\\text\{)(.*?)(\})", "\\2", final_answer)
    final_answer = re.sub(r"(\\textbf\{)(.*?)(\})", "\\2", final_answer)
    final_answer = re.sub(r"(\\overline\{)(.*?)(\})", "\\2", final_answer)
    final_answer = re.sub(r"(\\boxed\{)(.*)(\})", "\\2", final_answer)
    final_answer = re.sub(r"(frac)([^{])(.)", "frac{\\2}{\\3}", final_answer)
    final_answer = re.sub(r"(sqrt)([^{\[])", "sqrt{\\2}", final_answer)
    final_answer = final_answer.replace("$", "")
    if final_answer.replace(",", "").isdigit():
        final_answer = final_answer.replace(",", "")
    return final_answer


_AMPS_ANSWER_EDITS = (("+C", ""), ("+ C", ""), ("+ c", ""), ("+c", ""), ("\\\\fbox{", "\\\\boxed{"),
                      ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("\\left", ""), ("\\right", ""), ("\\bigl", ""),
                      ("\\bigr", ""), ("\\Bigl", ""), ("\\Bigr", ""), ("\\,", ""), ("\\;", ""), ("\n", ""),
                      ("\\cdot", "*"))
_AMPS_TRUTH_EDITS = (("\\left", ""), ("\\right", ""), (" ^", "^"), ("\\ ", "*"))


def _edit(text: str, edits: tuple[tuple[str, str], ...]) -> str:
    for old, new in edits:
        text = text.replace(old, new)
    return text


def amps_hard_extract(truth: str | list[str], answer: str) -> tuple[str, str | None, Verdict | None]:
    """(normalized truth, the answer's expression to compare symbolically or None, a verdict when no expression
    was found and the answer's end was compared as text instead)."""
    if isinstance(truth, list):
        truth = truth[-1]
    answer = _edit(answer, _AMPS_ANSWER_EDITS)
    truth = _edit(truth, _AMPS_TRUTH_EDITS)
    boxed = last_boxed_only_string(answer)
    if boxed:
        return truth, normalize_final_answer(remove_boxed(boxed)), None
    last_line = answer.split("\n")[-1]
    if last_line.count("$") >= 2:
        close = last_line.rfind("$")
        if last_line[close - 1] == "$":
            close -= 1
        math = last_line[last_line.rfind("$", 0, close) + 1:close]
        if "=" in math:
            math = math.split("=")[-1].strip()
        elif "\\quad \\text{or} \\quad" in math:
            math = math.split("\\quad \\text{or} \\quad")[-1].strip()
        return truth, normalize_final_answer(math), None
    if answer and answer[-1] == ".":
        answer = answer[:-1]
    matched = truth == answer[-len(truth):]
    return truth, None, Verdict(float(matched), answer[-len(truth):] if matched else None,
                                "no boxed or $...$ answer: compared the end of the text")


def integrals_solution(answer: str) -> str | None:
    """integrals_with_game's first candidate: the last <solution> body (any case, across lines), stripped."""
    found = re.findall(r"<solution>(.*?)</solution>", answer, re.IGNORECASE | re.DOTALL)
    return found[-1].strip() if found else None


def integrals_boxed(answer: str) -> str | None:
    """integrals_with_game's second candidate: the last \\boxed{} content."""
    boxed = last_boxed_only_string(answer.replace("\\\\fbox{", "\\\\boxed{"))
    return remove_boxed(boxed) if boxed else None

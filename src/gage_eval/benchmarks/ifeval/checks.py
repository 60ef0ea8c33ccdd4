"""The 25 IFEval check functions: ``check(response, args) -> bool``.

Each reproduces the decision of the same-named checker of Google's reference implementation
(google-research/instruction_following_eval, Apache-2.0, as shipped by lm-evaluation-harness in
``lm_eval/tasks/ifeval/instructions.py``), including its quirks, because scores must equal the
reference's sample by sample: keywords, the keyword of ``keywords:frequency`` and the section splitter
are used as regular expressions (not escaped), paragraphs split on ``***`` eat one whitespace character
on each side, ``nth_paragraph_first_word`` lower-cases character by character, and a response whose
language langdetect cannot judge counts as following a language instruction.

`args` are already validated and normalized by `checkers.build` (stripped/lower-cased/sorted as the
reference's ``build_description`` does).
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from gage_eval.benchmarks.ifeval import text_tools

Args = Mapping[str, Any]
Check = Callable[[str, Args], bool]

LESS_THAN, AT_LEAST = "less than", "at least"
RELATIONS = (LESS_THAN, AT_LEAST)
CONSTRAINED_RESPONSES = ("My answer is yes.", "My answer is no.", "My answer is maybe.")


def compare(count: int, relation: str, threshold: int) -> bool:
    return count < threshold if relation == LESS_THAN else count >= threshold


# -- keywords --------------------------------------------------------------------------------------------

def keywords_existence(response: str, args: Args) -> bool:
    return all(re.search(keyword, response, flags=re.IGNORECASE) for keyword in args["keywords"])


def keyword_frequency(response: str, args: Args) -> bool:
    count = len(re.findall(args["keyword"], response, flags=re.IGNORECASE))
    return compare(count, args["relation"], args["frequency"])


def forbidden_words(response: str, args: Args) -> bool:
    return not any(re.search(rf"\b{word}\b", response, flags=re.IGNORECASE) for word in args["forbidden_words"])


def letter_frequency(response: str, args: Args) -> bool:
    return compare(response.lower().count(args["letter"]), args["let_relation"], args["let_frequency"])


# -- language and case -----------------------------------------------------------------------------------

def response_language(response: str, args: Args) -> bool:
    detected = text_tools.detect_language(response)
    return detected is None or detected == args["language"]


def _english(response: str) -> bool:
    detected = text_tools.detect_language(response)
    return detected is None or detected == "en"


def english_capital(response: str, args: Args) -> bool:
    return response.isupper() and _english(response)


def english_lowercase(response: str, args: Args) -> bool:
    return response.islower() and _english(response)


def capital_word_frequency(response: str, args: Args) -> bool:
    count = sum(1 for word in text_tools.tokenize_words(response) if word.isupper())
    return compare(count, args["capital_relation"], args["capital_frequency"])


# -- length ----------------------------------------------------------------------------------------------

def number_sentences(response: str, args: Args) -> bool:
    return compare(text_tools.count_sentences(response), args["relation"], args["num_sentences"])


def number_words(response: str, args: Args) -> bool:
    return compare(text_tools.count_words(response), args["relation"], args["num_words"])


def _count_separated(parts: list[str]) -> int | None:
    """Non-blank parts; None when a blank part sits between two separators (an empty paragraph)."""
    if any(not part.strip() for part in parts[1:-1]):
        return None
    return sum(1 for part in parts if part.strip())


def number_paragraphs(response: str, args: Args) -> bool:
    return _count_separated(re.split(r"\s?\*\*\*\s?", response)) == args["num_paragraphs"]


_FIRST_WORD_STOP = frozenset(".,?!'\"")


def nth_paragraph_first_word(response: str, args: Args) -> bool:
    paragraphs = response.split("\n\n")
    count = sum(1 for paragraph in paragraphs if paragraph.strip())
    nth = args["nth_paragraph"]
    if nth > count:
        return False
    paragraph = paragraphs[nth - 1].strip()  # indexes the raw split, blank paragraphs included
    if not paragraph:
        return False
    word = paragraph.split()[0].lstrip("'").lstrip('"')
    first = []
    for char in word:
        if char in _FIRST_WORD_STOP:
            break
        first.append(char.lower())
    return count == args["num_paragraphs"] and "".join(first) == args["first_word"]


# -- detectable content and format ----------------------------------------------------------------------

def number_placeholders(response: str, args: Args) -> bool:
    return len(re.findall(r"\[.*?\]", response)) >= args["num_placeholders"]


def postscript_pattern(marker: str) -> str:
    if marker == "P.P.S":
        return r"\s*p\.\s?p\.\s?s.*$"
    if marker == "P.S.":
        return r"\s*p\.\s?s\..*$"
    return r"\s*" + marker.lower() + r".*$"


def postscript(response: str, args: Args) -> bool:
    pattern = postscript_pattern(args["postscript_marker"])
    return re.search(pattern, response.lower(), flags=re.MULTILINE) is not None


def number_bullet_lists(response: str, args: Args) -> bool:
    stars = re.findall(r"^\s*\*[^\*].*$", response, flags=re.MULTILINE)
    dashes = re.findall(r"^\s*-.*$", response, flags=re.MULTILINE)
    return len(stars) + len(dashes) == args["num_bullets"]


def constrained_response(response: str, args: Args) -> bool:
    text = response.strip()
    return any(option in text for option in CONSTRAINED_RESPONSES)


def number_highlighted_sections(response: str, args: Args) -> bool:
    # *x* and **x** are found by separate patterns; "**" alone or around blanks does not count
    single = [h for h in re.findall(r"\*[^\n\*]*\*", response) if h.strip("*").strip()]
    double = [h for h in re.findall(r"\*\*[^\n\*]*\*\*", response) if h[2:-2].strip()]
    return len(single) + len(double) >= args["num_highlights"]


def section_pattern(splitter: str) -> str:
    return r"\s?" + splitter + r"\s?\d+\s?"


def multiple_sections(response: str, args: Args) -> bool:
    return len(re.split(section_pattern(args["section_spliter"]), response)) - 1 >= args["num_sections"]


_FENCE_OPENINGS = ("```json", "```Json", "```JSON", "```")


def json_format(response: str, args: Args) -> bool:
    text = response.strip()
    for opening in _FENCE_OPENINGS:  # applied in turn, as chained removeprefix calls
        text = text.removeprefix(opening)
    text = text.removesuffix("```").strip()
    try:
        json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting (the reference crashes)
        return False
    return True


def title(response: str, args: Args) -> bool:
    return any(found.lstrip("<").rstrip(">").strip() for found in re.findall(r"<<[^\n]+>>", response))


# -- combination, start/end, punctuation -----------------------------------------------------------------

def two_responses(response: str, args: Args) -> bool:
    parts = response.split("******")
    if any(not part.strip() for part in parts[1:-1]):
        return False
    answers = [part for part in parts if part.strip()]
    return len(answers) == 2 and answers[0].strip() != answers[1].strip()


def repeat_prompt(response: str, args: Args) -> bool:
    return response.strip().lower().startswith(args["prompt_to_repeat"].strip().lower())


def end_checker(response: str, args: Args) -> bool:
    return response.strip().strip('"').lower().endswith(args["end_phrase"].strip().lower())


def quotation(response: str, args: Args) -> bool:
    text = response.strip()
    return len(text) > 1 and text[0] == '"' and text[-1] == '"'


def no_comma(response: str, args: Args) -> bool:
    return "," not in response

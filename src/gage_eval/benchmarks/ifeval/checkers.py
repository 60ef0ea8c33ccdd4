"""IFEval's 25 verifiable instructions: ids, parameters, and strict/loose scoring of a response.

Our own implementation of the instruction checkers of "Instruction-Following Evaluation for Large Language
Models" (Zhou et al., 2023). The semantics follow Google's reference implementation
(https://github.com/google-research/google-research/tree/master/instruction_following_eval, Apache-2.0,
as shipped by lm-evaluation-harness in ``lm_eval/tasks/ifeval``); tests/test_ifeval.py proves the four
scores equal lm-eval's ``process_results`` case by case. The check functions are in `checks`.

A record gives, per instruction, its kwargs; None values are dropped first (the published dataset
fills every unused key with None). The reference drops every falsy value and then replaces a missing
parameter by a *random* draw; a score must not depend on a random draw, so we differ exactly there
(README.md): a missing (None) parameter is an `InstructionError` naming the kwarg; 0, "" and [] are
taken literally where they mean something (else they are an error, like ``nth_paragraph: 0``); a
``letter`` that is not an ASCII letter (the dataset asks for "#" and "!") is counted as that character;
``nth_paragraph`` greater than ``num_paragraphs`` is kept (it cannot be followed).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gage_eval.benchmarks.ifeval import checks
from gage_eval.benchmarks.ifeval.checks import RELATIONS, Check


class InstructionError(ValueError):
    """An instruction id or kwarg that cannot be checked; `field` names it (e.g. ``num_words``)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# -- kwarg parsers: validate one value and normalize it as the reference's build_description does ---------

def _count(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():  # parquet/pandas may hand integers over as floats
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"must be a non-negative integer, not {value!r}")
    return value


def _position(value: Any) -> int:
    position = _count(value)
    if position == 0:
        raise ValueError("must be 1 or more (paragraphs are numbered from 1)")
    return position


def _relation(value: Any) -> str:
    if value not in RELATIONS:
        raise ValueError(f"must be one of {' or '.join(map(repr, RELATIONS))}, not {value!r}")
    return str(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"must be a string, not {type(value).__name__}")
    return value


def _stripped(value: Any) -> str:
    return _text(value).strip()


def _lower(value: Any) -> str:
    return _text(value).lower()


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:  # the reference would crash mid-run on it
        raise ValueError(f"{value!r} is used as a regular expression and does not compile: {exc}") from None
    return value


def _pattern(value: Any) -> str:
    return _regex(_stripped(value))


def _patterns(value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(f"must be a list of strings, not {type(value).__name__}")
    return [_regex(_text(item)) for item in value]


def _sorted_patterns(value: Any) -> list[str]:
    return sorted(_patterns(value))


def _sorted_unique_patterns(value: Any) -> list[str]:
    return sorted(set(_patterns(value)))


def _letter(value: Any) -> str:
    text = _text(value)
    if len(text) != 1:
        raise ValueError(f"must be a single character, not {text!r}")
    return text.lower()


def _language(value: Any) -> str:
    return _stripped(value)


def _section_splitter(value: Any) -> str:
    splitter = _stripped(value)
    _regex(checks.section_pattern(splitter))
    return splitter


def _postscript_marker(value: Any) -> str:
    marker = _stripped(value)
    _regex(checks.postscript_pattern(marker))
    return marker


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    parse: Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class InstructionType:
    id: str
    check: Check
    params: tuple[Param, ...] = ()
    description: str = ""

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)


def _p(name: str, parse: Callable[[Any], Any]) -> Param:
    return Param(name, parse)


_TYPES = (
    InstructionType("keywords:existence", checks.keywords_existence, (_p("keywords", _sorted_patterns),),
                    "every keyword occurs (case-insensitive regex search)"),
    InstructionType("keywords:frequency", checks.keyword_frequency,
                    (_p("keyword", _pattern), _p("frequency", _count), _p("relation", _relation)),
                    "the keyword occurs less than / at least `frequency` times"),
    InstructionType("keywords:forbidden_words", checks.forbidden_words,
                    (_p("forbidden_words", _sorted_unique_patterns),), "no forbidden word occurs as a whole word"),
    InstructionType("keywords:letter_frequency", checks.letter_frequency,
                    (_p("letter", _letter), _p("let_frequency", _count), _p("let_relation", _relation)),
                    "the letter (case-insensitive) occurs less than / at least `let_frequency` times"),
    InstructionType("language:response_language", checks.response_language, (_p("language", _language),),
                    "langdetect names the expected language"),
    InstructionType("length_constraints:number_sentences", checks.number_sentences,
                    (_p("num_sentences", _count), _p("relation", _relation)), "Punkt sentence count"),
    InstructionType("length_constraints:number_paragraphs", checks.number_paragraphs,
                    (_p("num_paragraphs", _count),), "exactly N paragraphs separated by ***"),
    InstructionType("length_constraints:number_words", checks.number_words,
                    (_p("num_words", _count), _p("relation", _relation)), r"count of \w+ runs"),
    InstructionType("length_constraints:nth_paragraph_first_word", checks.nth_paragraph_first_word,
                    (_p("num_paragraphs", _count), _p("nth_paragraph", _position), _p("first_word", _lower)),
                    "exactly N paragraphs separated by blank lines; paragraph n starts with the word"),
    InstructionType("detectable_content:number_placeholders", checks.number_placeholders,
                    (_p("num_placeholders", _count),), "at least N [placeholders]"),
    InstructionType("detectable_content:postscript", checks.postscript,
                    (_p("postscript_marker", _postscript_marker),), "a line starting with the P.S. marker"),
    InstructionType("detectable_format:number_bullet_lists", checks.number_bullet_lists,
                    (_p("num_bullets", _count),), "exactly N lines starting with * or -"),
    InstructionType("detectable_format:constrained_response", checks.constrained_response, (),
                    "contains 'My answer is yes.' / 'no.' / 'maybe.'"),
    InstructionType("detectable_format:number_highlighted_sections", checks.number_highlighted_sections,
                    (_p("num_highlights", _count),), "at least N *highlighted* spans"),
    InstructionType("detectable_format:multiple_sections", checks.multiple_sections,
                    (_p("section_spliter", _section_splitter), _p("num_sections", _count)),
                    "at least N sections marked 'SECTION X'"),
    InstructionType("detectable_format:json_format", checks.json_format, (),
                    "the response (code fences removed) parses as JSON"),
    InstructionType("detectable_format:title", checks.title, (), "a non-blank <<title>>"),
    InstructionType("combination:two_responses", checks.two_responses, (),
                    "two different answers separated by ******"),
    InstructionType("combination:repeat_prompt", checks.repeat_prompt, (_p("prompt_to_repeat", _text),),
                    "starts with the request, repeated (case-insensitive)"),
    InstructionType("startend:end_checker", checks.end_checker, (_p("end_phrase", _stripped),),
                    "ends with the phrase (case-insensitive, outer double quotes ignored)"),
    InstructionType("change_case:capital_word_frequency", checks.capital_word_frequency,
                    (_p("capital_frequency", _count), _p("capital_relation", _relation)),
                    "count of all-capital words (nltk.word_tokenize)"),
    InstructionType("change_case:english_capital", checks.english_capital, (), "all capitals and English"),
    InstructionType("change_case:english_lowercase", checks.english_lowercase, (), "all lowercase and English"),
    InstructionType("punctuation:no_comma", checks.no_comma, (), "no comma"),
    InstructionType("startend:quotation", checks.quotation, (), "wrapped in double quotation marks"),
)

INSTRUCTIONS: Mapping[str, InstructionType] = {t.id: t for t in _TYPES}


@dataclass(frozen=True, slots=True)
class Instruction:
    """An instruction type bound to its validated arguments."""

    type: InstructionType
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.type.id

    def follows(self, response: str) -> bool:
        """The reference's rule: a blank response follows no instruction."""
        return bool(response.strip()) and self.type.check(response, self.args)


def build(instruction_id: Any, kwargs: Mapping[str, Any] | None) -> Instruction:
    """Validate `kwargs` for `instruction_id`; InstructionError names the offending kwarg."""
    spec = INSTRUCTIONS.get(instruction_id) if isinstance(instruction_id, str) else None
    if spec is None:
        raise InstructionError(f"unknown IFEval instruction id {instruction_id!r} "
                               f"(known: {', '.join(sorted(INSTRUCTIONS))})")
    if kwargs is None:
        kwargs = {}
    if not isinstance(kwargs, Mapping):
        raise InstructionError(f"the kwargs of {spec.id} must be an object, not {type(kwargs).__name__}")
    # A kwarg the instruction does not take is an error (the reference crashes on it) unless falsy:
    # the reference drops falsy values before looking.
    unknown = sorted(k for k, v in kwargs.items() if v and k not in spec.param_names)
    given = {k: v for k, v in kwargs.items() if v is not None and k in spec.param_names}
    if unknown:
        raise InstructionError(f"{spec.id} takes no kwarg {unknown[0]!r} (it takes: "
                               f"{', '.join(spec.param_names) or 'none'})", unknown[0])
    args: dict[str, Any] = {}
    for param in spec.params:
        if param.name not in given:
            raise InstructionError(f"{spec.id} needs kwarg {param.name!r} (the reference would draw a random "
                                   "value; a score must not depend on one)", param.name)
        try:
            args[param.name] = param.parse(given[param.name])
        except (ValueError, TypeError) as exc:
            raise InstructionError(f"{spec.id}: kwarg {param.name!r} {exc}", param.name) from None
    return Instruction(spec, args)


def build_all(instruction_ids: Any, kwargs_list: Any) -> list[Instruction]:
    """Bind every instruction of a record. InstructionError.field is ``instruction_id_list[i]``,
    ``kwargs`` or ``kwargs[i].<name>``."""
    if isinstance(instruction_ids, str) or not isinstance(instruction_ids, Sequence):
        raise InstructionError("instruction_id_list must be a list of instruction ids", "instruction_id_list")
    if isinstance(kwargs_list, str) or not isinstance(kwargs_list, Sequence):
        raise InstructionError("kwargs must be a list with one object per instruction", "kwargs")
    if len(kwargs_list) != len(instruction_ids):
        raise InstructionError(f"kwargs has {len(kwargs_list)} entries for {len(instruction_ids)} instructions "
                               "(one object per instruction, {} when it takes none)", "kwargs")
    instructions = []
    for index, (instruction_id, kwargs) in enumerate(zip(instruction_ids, kwargs_list)):
        try:
            instructions.append(build(instruction_id, kwargs))
        except InstructionError as exc:
            where = (f"kwargs[{index}].{exc.field}" if exc.field else f"kwargs[{index}]") \
                if instruction_id in INSTRUCTIONS else f"instruction_id_list[{index}]"
            raise InstructionError(str(exc), where) from None
    return instructions


def loose_variants(response: str) -> list[str]:
    """The response and the seven relaxations of the reference's loose score: without the first line,
    the last line, or both (each stripped), and each of those four with every asterisk removed."""
    lines = response.split("\n")
    cut = ["\n".join(lines[1:]).strip(), "\n".join(lines[:-1]).strip(), "\n".join(lines[1:-1]).strip()]
    return [response, response.replace("*", ""), *cut, *(text.replace("*", "") for text in cut)]


@dataclass(frozen=True, slots=True)
class InstructionResult:
    id: str
    strict: bool
    loose: bool


def evaluate(instructions: Sequence[Instruction], response: str) -> list[InstructionResult]:
    variants = loose_variants(response)
    results = []
    for instruction in instructions:
        strict = instruction.follows(response)
        loose = strict or any(instruction.follows(text) for text in variants[1:])
        results.append(InstructionResult(instruction.id, strict, loose))
    return results

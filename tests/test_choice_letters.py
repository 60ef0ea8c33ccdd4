"""The letter rule for generated multiple-choice answers (gage_eval/metrics/choice_letters.py), as a table.

Each row: the reply, the number of options, and either the letter credited or ``-reason`` (unparsed, and why).
The options are those of PLANETS unless the row says otherwise; rows marked "decided" pin a choice the rule
documents rather than an obvious reading.
"""
from __future__ import annotations

import re

import pytest

from gage_eval.metrics.base import MetricContext
from gage_eval.metrics.builtin import MultiChoiceAccuracy
from gage_eval.metrics.choice_letters import extract_choice
from gage_eval.metrics.multiple_choice import MultipleChoiceAccuracy
from gage_eval.sample import Sample

PLANETS = ["Mars", "Moon", "Sun", "Comet"]
TEN = [f"option number {i}" for i in range(10)]

TABLE: list[tuple[str, int, str]] = [
    # echoes of the option list
    ("A. Mars B. Moon C. Sun D. Comet", 4, "-echo"),
    ("A. Mars\nB. Moon\nC. Sun\nD. Comet", 4, "-echo"),
    ("Which is a star? A. Mars B. Moon C. Sun D. Comet Answer with the letter of the correct option.", 4, "-echo"),
    ("(A) Mars (B) Moon (C) Sun (D) Comet", 4, "-echo"),
    ("A. Mars B. Moon C.", 4, "-ambiguous"),  # an echo cut off after two options: not a list, but two labels
    ("Which is a star? A. Mars B. Moon C. Sun D. Com", 4, "-echo"),  # cut off inside the last option
    ("A. Mars\nB. Moon\nC. Sun\nD. Comet\n\nAnswer: C", 4, "C"),  # options restated, then answered
    ("A. Mars\nB. Moon\nC. Sun\nD. Comet\n\nC", 4, "-echo"),  # decided: after an echo only a marker counts
    ("A. Mars: no\nB. Moon: no\nC. Sun: yes\nD. Comet: no\nThe answer is C.", 4, "C"),
    ("The answer is C. A. Mars is a planet. B. Moon is a satellite. C. Sun is a star. D. Comet is ice.", 4,
     "-echo"),  # decided: only what follows a repeated option list is read
    ("A. Use a hammer B. Use a screwdriver", 2, "-echo"),
    # hedges and several letters
    ("I cannot decide between A and B", 4, "-ambiguous"),
    ("A or B", 4, "-ambiguous"),
    ("The answer is A or B.", 4, "-ambiguous"),
    ("Answer: A, B", 4, "-ambiguous"),
    ("答案：A和B", 4, "-ambiguous"),
    ("Answer: A, B, or D", 4, "-ambiguous"),
    ("答案：C，A选项是行星", 4, "C"),  # after a comma, a letter followed by more words is an explanation
    ("Not A, it's C", 4, "-ambiguous"),  # decided: negations are not read
    ("Answer: C. Wait, no: the answer is B.", 4, "-ambiguous"),  # a change of mind names two answers
    ("(A) and (C) could both be right", 4, "-ambiguous"),
    ("A: wrong, B: wrong, C: right, D: wrong", 4, "-ambiguous"),
    ("A. wrong\nB. wrong\nC. right", 4, "-ambiguous"),
    # explicit markers
    ("Answer: (C)", 4, "C"),
    ("The answer is C", 4, "C"),
    ("The correct answer is (B) Moon.", 4, "B"),
    ("the best option is D", 4, "D"),
    ("ANSWER: A", 4, "A"),  # EvalScope's format
    ("**Answer:** C", 4, "C"),
    ("The answer is: **C. Sun**", 4, "C"),
    ("**C**", 4, "C"),
    ("Final answer: $\\boxed{C}$", 4, "C"),
    ("Let me think. Mars is a planet and A is wrong.\nTherefore, the answer is C.", 4, "C"),
    ("Answer: C\n\nExplanation: A and B are not stars.", 4, "C"),  # the marker decides; prose letters are not read
    ("答案是B", 4, "B"),
    ("答案：B", 4, "B"),
    ("正确答案是 B。", 4, "B"),
    ("故选B。", 4, "B"),
    ("选B", 4, "B"),
    ("answer: c", 4, "C"),
    ("The answer is (c).", 4, "C"),
    ("the answer is b", 4, "B"),
    ("the answer is a good question", 4, "-none"),  # lowercase "a" followed by a word is the article
    ("The answer is I think C", 10, "-none"),  # "I" before a lowercase word is the pronoun
    ("answer is not A", 4, "-none"),
    ("<think>A or B? maybe D</think>The answer is C.", 4, "C"),  # reasoning is dropped
    # labels: a letter alone, or leading the reply with an explanation after it
    ("C", 4, "C"),
    ("c", 4, "C"),
    ("C.", 4, "C"),
    ("(C)", 4, "C"),
    ("'C'", 4, "C"),
    ("  C\n", 4, "C"),
    ("C. Because the Sun is a star.", 4, "C"),
    ("C) the sun is a star", 4, "C"),
    ("c) the sun is a star", 4, "C"),
    ("C\n\nBecause A is a planet.", 4, "C"),
    ("B。因为月亮是卫星", 4, "B"),
    ("B选项正确", 4, "B"),
    ("I'd go with (C).", 4, "C"),
    ("It's C", 4, "-none"),  # decided: a letter in prose is not an answer
    ("C is correct", 4, "-none"),  # decided: like "A planet is ...", a capital followed by a word is prose
    ("A planet orbits the Sun.", 4, "-none"),
    ("I am not sure.", 4, "-none"),
    ("", 4, "-none"),
    ("ANSWER: AB", 4, "-none"),
    # ten options and out-of-range letters
    ("Answer: (H)", 10, "H"),
    ("J", 10, "J"),
    ("The answer is E.", 10, "E"),
    ("I", 10, "I"),
    ("Answer: K", 10, "-out_of_range"),
    ("Answer: E", 4, "-out_of_range"),
    ("E", 4, "-out_of_range"),
    ("E. coli is a bacterium, so (B)", 4, "B"),  # a capital past the options next to a real label is prose
    ("A. option number 0 B. option number 1 C. option number 2 D. option number 3 E. option number 4 "
     "F. option number 5", 10, "-echo"),
    ("A. option number 0 B. option number 1 C. option number 2", 10, "-ambiguous"),  # 3 of 10 is no list
]


QUESTION = "Which body is number 0 in the list?\nA. Mars\nB. Moon\nC. Sun\nD. Comet\n\nAnswer with the letter."
# The prompt is known (as the metrics pass it): a repeated question line is an echo even when cut off early.
PROMPT_TABLE: list[tuple[str, str]] = [
    ("Which body is number 0 in the list? A. Mars B.", "-echo"),  # an echo cut off after one option
    ("Which body is number 0 in the list? A. Ma", "-echo"),
    ("Which body is number 0 in the list?", "-echo"),
    ("Which body is number 0 in the list? Answer with the letter.", "-echo"),
    ("Which body is number 0 in the list? The answer is C.", "C"),
    ("C. Sun", "C"),
    ("A. Mars", "A"),
    ("Sun", "-none"),
]


def _options(n: int) -> list[str]:
    return TEN if n == 10 else PLANETS[:n] if n <= 4 else PLANETS


@pytest.mark.parametrize(("reply", "n", "expected"), TABLE, ids=[f"{i:02d}" for i in range(len(TABLE))])
def test_letter_rule(reply: str, n: int, expected: str) -> None:
    options = _options(n) if n != 2 else ["Use a hammer", "Use a screwdriver"]
    found = extract_choice(reply, n, list(options))
    if expected.startswith("-"):
        assert (found.letter, found.how) == (None, expected[1:]), reply
    else:
        assert (found.letter, found.how in ("marker", "label")) == (expected, True), reply


@pytest.mark.parametrize(("reply", "expected"), PROMPT_TABLE, ids=[f"p{i}" for i in range(len(PROMPT_TABLE))])
def test_letter_rule_with_the_prompt(reply: str, expected: str) -> None:
    found = extract_choice(reply, 4, list(PLANETS), prompt=QUESTION)
    if expected.startswith("-"):
        assert (found.letter, found.how) == (None, expected[1:]), reply
    else:
        assert found.letter == expected, reply


def test_the_table_is_large_and_covers_every_outcome() -> None:
    outcomes = {e if e.startswith("-") else "letter" for _, _, e in TABLE}
    assert len(TABLE) >= 40
    assert outcomes == {"letter", "-echo", "-ambiguous", "-none", "-out_of_range"}


def _mc_sample(choice_texts: list[str], gold: int, prompt: str) -> Sample:
    return Sample(id="s", messages=[{"role": "user", "content": prompt}],
                  choices=[{"label": "ABCD"[i], "text": t} for i, t in enumerate(choice_texts)],
                  label="ABCD"[gold], metadata={"gold_index": gold, "choice_texts": choice_texts})


def test_mc_accuracy_counts_echoes_and_hedges_as_unparsed_with_the_reason() -> None:
    metric = MultipleChoiceAccuracy("mc_accuracy")
    sample = _mc_sample(PLANETS, 0, "Which is red?\nA. Mars\nB. Moon\nC. Sun\nD. Comet\n\nAnswer with the letter.")
    for reply, how in [("A. Mars B. Moon C. Sun D. Comet", "echo"), ("I cannot decide between A and B", "ambiguous"),
                       ("No idea.", "none")]:
        result = metric.evaluate(MetricContext(sample, {"answer": reply}, {}))
        assert result.values == {"acc": 0.0}
        assert result.details["unparsed"] is True and result.details["extraction"] == how
    hedge = metric.evaluate(MetricContext(sample, {"answer": "A or B"}, {}))
    assert hedge.details["candidates"] == ["A", "B"]
    right = metric.evaluate(MetricContext(sample, {"answer": "A. Because Mars is red."}, {}))
    assert right.values == {"acc": 1.0} and right.details == {"pred": 0, "gold": [0], "unparsed": False,
                                                              "extraction": "label"}


def test_letters_as_choices_take_the_option_texts_from_the_prompt() -> None:
    # MMLU, CMMLU and C-Eval: the choices are the letters; the texts are only in the question.
    metric = MultipleChoiceAccuracy("mc_accuracy")
    prompt = "以下是关于天文学的单项选择题。\n\n哪个是恒星？\nA. 火星\nB. 月亮\nC. 太阳\nD. 彗星\n答案："
    sample = _mc_sample(["A", "B", "C", "D"], 0, prompt)
    echo = metric.evaluate(MetricContext(sample, {"answer": "哪个是恒星？ A. 火星 B. 月亮 C. 太阳 D. 彗星 答案："}, {}))
    assert echo.values == {"acc": 0.0} and echo.details["extraction"] == "echo"
    answered = metric.evaluate(MetricContext(sample, {"answer": "A. 火星 B. 月亮 C. 太阳 D. 彗星\n答案：A"}, {}))
    assert answered.values == {"acc": 1.0}


def test_multi_choice_accuracy_uses_the_same_rule() -> None:
    metric = MultiChoiceAccuracy("multi_choice_accuracy")
    sample = _mc_sample(PLANETS, 2, "Which is a star?\nA. Mars\nB. Moon\nC. Sun\nD. Comet")
    echo = metric.evaluate(MetricContext(sample, {"answer": "Which is a star? A. Mars B. Moon C. Sun D. Comet"}, {}))
    assert echo.values["multi_choice_accuracy"] == 0.0 and echo.details["extraction"] == "echo"
    assert echo.details["unparsed"] is True
    right = metric.evaluate(MetricContext(sample, {"answer": "答案是C"}, {}))
    assert right.values["multi_choice_accuracy"] == 1.0 and right.details["pred"] == "C"


def test_against_lm_evals_multi_choice_regex() -> None:
    """lm-eval's gpqa/mmlu generative flexible-extract (installed package): where its own pattern, "(X)",
    names one letter and the reply is no echo, we read the same letter; every echo row it credits anyway."""
    from lm_eval.filters.extraction import MultiChoiceRegexFilter

    flexible = MultiChoiceRegexFilter(regex_pattern=r"(\([A-Z]\))", group_select=0, ignore_case=True,
                                      ignore_punctuation=True)
    same = echoes = 0
    for reply, n, expected in TABLE:
        options = _options(n) if n != 2 else ["Use a hammer", "Use a screwdriver"]
        theirs = flexible.apply([[reply]], [{"choices": options}])[0][0]
        ours = extract_choice(reply, n, list(options)).letter
        bracketed = set(re.findall(r"\(([A-Z])\)", reply))
        if expected == "-echo":
            assert re.fullmatch(r"\([A-Z]\)", theirs) and ours is None, reply
            echoes += 1
        elif len(bracketed) == 1:
            assert theirs == f"({ours})", reply
            same += 1
    assert same >= 5 and echoes >= 8


@pytest.mark.parametrize("name", ["mmlu", "cmmlu", "ceval", "gpqa_diamond", "arc_easy", "arc_challenge",
                                  "hellaswag", "piqa"])
def test_every_letter_scoring_benchmark_documents_the_rule(name: str) -> None:
    from pathlib import Path

    import gage_eval.benchmarks

    readme = (Path(gage_eval.benchmarks.__file__).parent / name / "README.md").read_text()
    scoring = readme[readme.index("- **Scoring**"):]
    scoring = scoring[:scoring.index("\n- **")]
    for phrase in ("choice_letters.py", "`ambiguous`", "`echo`", "`out_of_range`", "unparsed_answers"):
        assert phrase in scoring, (name, phrase)


def test_long_adversarial_replies_are_read_in_linear_time() -> None:
    """A reply is untrusted: runs of spaces, stars or labels once made the patterns backtrack for minutes."""
    import time

    replies = ["Answer:" + " $ * _ " * 5000, "答案" + " " * 30000, "The answer is" + " " * 30000, "A. " * 20000,
               "A. Mars " * 5000, "<think>" * 5000, "A, " * 20000, "I " * 20000]
    start = time.perf_counter()
    for reply in replies:
        extract_choice(reply, 4, list(PLANETS), prompt=QUESTION)
    assert time.perf_counter() - start < 10  # about 0.5 s here; before the fix the first reply alone took 190 s

"""LiveBench scorers agree with LiveBench's own ``process_results`` code, task by task.

tests/data/livebench_scoring_cases.json holds 194 (question, answer) cases built from the examples in
LiveBench's scorer docstrings and code paths (every extraction route, answers that must score 0 — wrong
format, extra text, a wrong box — and the partial-credit tasks), each with the score LiveBench's code gave it
(LiveBench repository, ``livebench/process_results/*``, run on these cases). ``status: eval_error`` is an
answer on which LiveBench's scorer raises (it records score 0); ``flag: llm_fallback`` an AMPS_Hard answer
sympy could not match, where LiveBench asks an LLM and, without its key, records 0.
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from gage_eval.benchmarks.livebench.equivalence import worker
from gage_eval.benchmarks.livebench.scoring import Outcome, score_question

CASES = json.loads((Path(__file__).parent / "data" / "livebench_scoring_cases.json").read_text(encoding="utf-8"))


def _score(metadata: dict[str, Any], answer: str, question: str = "") -> Outcome:
    return asyncio.run(score_question(metadata, question, answer))


def test_the_fixture_covers_every_scorer_with_zeros_and_partial_credit() -> None:
    kinds = {c["case"] for c in CASES}
    assert kinds >= {"math_contest", "aime", "olympiad", "amps_hard", "integrals_with_game", "zebra_new", "zebra_old",
                     "wol2", "wol3", "spatial", "house", "tom", "logic_with_navigation", "cta", "tablejoin", "cev",
                     "tablereformat_v1", "tablereformat_v2", "typos", "conn_new", "conn_old", "plot"}
    partial = {c["case"] for c in CASES if c["expected"] not in (0.0, 1.0, None)}
    assert partial >= {"olympiad", "zebra_new", "wol3", "conn_new", "conn_old", "plot", "cev", "tablejoin"}
    assert sum(c["expected"] == 0.0 for c in CASES) >= 50


@pytest.mark.parametrize("case", CASES, ids=[f"{c['case']}-{i}" for i, c in enumerate(CASES)])
def test_score_equals_livebench(case: dict[str, Any]) -> None:
    outcome = _score(case["metadata"], case["answer"], case["question"])
    assert outcome.status == case["status"], outcome
    if case["status"] == "eval_error":
        assert outcome.score == 0.0 and outcome.reason
        return
    assert outcome.score == pytest.approx(case["expected"], abs=1e-9), (outcome, case["answer"])
    assert (outcome.verdict.flag == "llm_fallback") == (case.get("flag") == "llm_fallback")


# -- behaviour around the scorers ------------------------------------------------------------------------------
WOL = {"category": "reasoning", "task": "web_of_lies_v2", "ground_truth": "yes, no, yes"}


def test_reasoning_traces_are_removed_before_scoring() -> None:
    assert _score(WOL, "<think>maybe **no, no, no**</think>\n**yes, no, yes**").score == 1.0
    assert _score(WOL, "<think>**yes, no, yes**</think>\nI do not know").score == 0.0


def test_subtask_routes_before_task() -> None:
    aime = {"category": "math", "task": "math_comp", "subtask": "aime_2024_I", "ground_truth": "204"}
    assert _score(aime, "so 204").score == 1.0
    amc = {**aime, "subtask": "amc_12a_2023", "ground_truth": "B"}
    assert _score(amc, "BBBBB").scorer == "math_contest"


@pytest.mark.parametrize("metadata, reason", [
    ({"category": "reasoning", "task": "sudoku", "ground_truth": "x"}, "sudoku"),
    ({"category": "coding", "task": "agentic_coding"}, "Docker"),
    ({"category": "math", "task": "brand_new_task", "ground_truth": "1"}, "brand_new_task"),
    ({"category": "reasoning", "task": "spatial"}, "ground_truth"),
    ({"category": "instruction_following", "task": "paraphrase", "livebench_release_date": "2025-11-25",
      "instruction_id_list": ["count:word_count_range"], "kwargs": [{}]}, "IFBench"),
    ({"category": "instruction_following", "task": "paraphrase", "livebench_release_date": "2024-06-24",
      "instruction_id_list": ["detectable_format:number_bullet_lists"], "kwargs": [{}]}, "num_bullets"),
])
def test_uncovered_questions_are_unscored_never_zero(metadata: dict[str, Any], reason: str) -> None:
    outcome = _score(metadata, "anything")
    assert outcome.status == "unscored" and outcome.score is None
    assert reason in outcome.reason


def test_a_scorer_exception_is_an_eval_error_with_score_zero() -> None:
    outcome = _score({"category": "math", "task": "math_comp", "subtask": "amc_12a_2023", "ground_truth": "F"},
                     "FFFFF")
    assert outcome.status == "eval_error" and outcome.score == 0.0 and "A-E" in outcome.reason


# -- instruction following: mean of prompt-level strict and instruction-level strict ---------------------------
IF = {"category": "instruction_following", "task": "simplify", "livebench_release_date": "2024-06-24",
      "instruction_id_list": ["change_case:english_lowercase", "punctuation:no_comma"], "kwargs": [{}, {}]}


@pytest.mark.parametrize("answer, expected", [
    ("all lowercase and no commas here", 1.0),
    ("all lowercase, with a comma", 0.25),       # 1 of 2 followed: (0 + 1/2) / 2
    ("Upper Case, And A Comma", 0.0),
    ("   ", 0.0),                                  # a blank answer follows nothing
    ("<think>Thinking, Out Loud</think>  all lowercase  ", 1.0),
])
def test_instruction_following_score(answer: str, expected: float) -> None:
    assert _score(IF, answer).score == pytest.approx(expected)


def test_instruction_following_drops_none_kwargs_like_the_hub_rows() -> None:
    meta = {**IF, "instruction_id_list": ["length_constraints:number_words"],
            "kwargs": [{"num_words": 3, "relation": "less than", "num_sentences": None, "keywords": None}]}
    assert _score(meta, "two words").score == 1.0
    assert _score(meta, "this has four words").score == 0.0


# -- the sympy worker ------------------------------------------------------------------------------------------
def test_sympy_worker_times_out_kills_and_recovers() -> None:
    status, value = worker().call("amps", "x^2", "x*x", timeout_s=60)
    assert (status, value) == ("ok", True)
    assert worker().call("amps", "\\sin(x)^2 + \\cos(x)^2", "1", timeout_s=1e-4)[0] == "timeout"
    assert worker().call("amps", "2x", "x+x", timeout_s=60) == ("ok", True)  # a fresh worker took over


def test_amps_timeout_scores_zero_with_the_llm_flag() -> None:
    from gage_eval.benchmarks.livebench.scoring import Settings

    meta = {"category": "math", "task": "AMPS_Hard", "subtask": "amps_hard_derivatives", "ground_truth": "2 x"}
    outcome = asyncio.run(score_question(meta, "", "$\\boxed{x+x}$", Settings(sympy_timeout_s=1e-4)))
    assert outcome.score == 0.0 and outcome.verdict.flag == "llm_fallback" and "timed out" in outcome.verdict.note

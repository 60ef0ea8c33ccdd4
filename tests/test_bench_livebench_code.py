"""LiveBench coding (LCB_generation, coding_completion): answers run in gage's sandbox against public and
private tests, scored as LiveBench's LiveCodeBench grader scores them.

Expected scores come from LiveBench's ``lcb_runner`` (``codegen_metrics`` with timeout 6, as
``LCB_generation_process_results`` calls it) run on these answers, including its quirks: ``from sys import
stdin`` works (LCB patches the stdin the program bound at compile time), output lines compare stripped or as
decimals, a tuple counts as a list, SystemExit ends a test quietly.
"""
from __future__ import annotations

import asyncio
import base64
import json
import pickle
import zlib
from typing import Any

import pytest

from gage_eval.benchmarks.livebench.coding import decode_tests, extract_code
from gage_eval.benchmarks.livebench.scoring import Outcome, score_question
from gage_eval.benchmarks.livebench.text import ScoringError


def _t(inp: str, out: str, kind: str = "stdin") -> dict[str, str]:
    return {"input": inp, "output": out, "testtype": kind}


STDIO: dict[str, Any] = {
    "category": "coding", "task": "LCB_generation",
    "public_test_cases": json.dumps([_t("1 2\n", "3\n")]),
    "private_test_cases": json.dumps([_t("5 7\n", "12\n"), _t("100000000000 1\n", "100000000001\n")]),
    "original_json": {"metadata": "{}"}}
CALL: dict[str, Any] = {
    "category": "coding", "task": "LCB_generation",
    "public_test_cases": json.dumps([_t("[2,7,11,15]\n9", "[0, 1]", "functional")]),
    "private_test_cases": json.dumps([_t("[3,2,4]\n6", "[1, 2]", "functional")]),
    "original_json": {"metadata": json.dumps({"func_name": "twoSum"})}}
TWO_SUM = ("class Solution:\n    def twoSum(self, nums, target):\n        seen = {}\n        for i, x in enumerate(nums):\n"
           "            if target - x in seen:\n                return [seen[target - x], i]\n            seen[x] = i\n")


def _score(metadata: dict[str, Any], answer: str) -> Outcome:
    return asyncio.run(score_question(metadata, "", answer))


@pytest.mark.parametrize("answer, expected", [
    ("```python\na, b = map(int, input().split())\nprint(a + b)\n```", 1.0),
    ("```python\nimport sys\ndata = sys.stdin.read().split()\nprint(int(data[0]) + int(data[1]))\n```", 1.0),
    ("```python\nfrom sys import stdin\na, b = map(int, stdin.readline().split())\nprint(a+b)\n```", 1.0),
    ("```python\ndef main():\n    a, b = map(int, input().split())\n    print(a + b)\n\n"
     "if __name__ == '__main__':\n    main()\n```", 1.0),
    ("```python\na, b = map(int, input().split())\nprint(float(a + b))\n```", 1.0),   # 3.0 == 3 as decimals
    ("```python\na, b = map(int, input().split())\nprint(a + b)\nexit(0)\n```", 1.0),
    ("a, b = map(int, input().split())\nprint(a + b)", 1.0),                            # no fence: the whole text
    ("```python\na, b = map(int, input().split())\nprint(a - b)\n```", 0.0),            # wrong answer
    ("Here you go:\n```python\nprint(3)\n```", 0.0),                                     # passes public only
    ("```python\nraise SystemExit\n```", 0.0),
    ("```python\nprint('3')\nprint('extra')\n```", 0.0),                                  # extra output line
])
def test_standard_input_problems(answer: str, expected: float) -> None:
    outcome = _score(STDIO, answer)
    assert outcome.status == "scored" and outcome.score == expected, outcome


@pytest.mark.parametrize("answer, expected", [
    ("```python\n" + TWO_SUM + "```", 1.0),
    ("```python\nclass Solution:\n    def twoSum(self, nums, target):\n        return (0, 1)\n```", 0.0),
    ("```python\nclass Solution:\n    def twoSum(self, nums, target):\n        return 1/0\n```", 0.0),
    ("```python\nclass Solution:\n    def twoSums(self, nums, target):\n        return [0, 1]\n```", 0.0),
])
def test_call_based_problems(answer: str, expected: float) -> None:
    outcome = _score(CALL, answer)
    assert outcome.score == expected, outcome
    if expected == 0.0:
        assert outcome.verdict.note.startswith("failed"), outcome


def test_a_tuple_result_counts_as_a_list() -> None:
    one_test = {**CALL, "private_test_cases": "[]"}
    answer = "```python\nclass Solution:\n    def twoSum(self, nums, target):\n        return (0, 1)\n```"
    assert _score(one_test, answer).score == 1.0


def test_code_completion_puts_the_starter_code_first() -> None:
    starter = "class Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:"
    question = {**CALL, "task": "coding_completion", "partial_solution": starter, "private_test_cases": "[]"}
    assert _score(question, "```python\n        return [0, 1]\n```").score == 1.0
    assert _score(question, "```python\n" + starter + "\n        return [0, 1]\n```").score == 1.0
    assert _score(question, "```python\n        return [1, 0]\n```").score == 0.0


def test_packed_private_tests_are_read_and_code_in_pickles_is_refused() -> None:
    packed = base64.b64encode(zlib.compress(pickle.dumps(json.dumps([_t("5 7\n", "12\n")])))).decode()
    assert decode_tests(packed, "private_test_cases") == [_t("5 7\n", "12\n")]
    question = {**STDIO, "private_test_cases": packed}
    assert _score(question, "```python\na, b = map(int, input().split())\nprint(a + b)\n```").score == 1.0

    class Evil:
        def __reduce__(self) -> tuple[Any, ...]:
            return (print, ("pwned",))

    evil = base64.b64encode(zlib.compress(pickle.dumps(Evil()))).decode()
    with pytest.raises(ScoringError, match="neither JSON"):
        decode_tests(evil, "private_test_cases")
    outcome = _score({**STDIO, "private_test_cases": evil}, "print(3)")
    assert outcome.status == "eval_error" and "refusing" in outcome.reason


@pytest.mark.parametrize("text, code", [
    ("x\n```python\nprint(1)\n```\ny\n```python\nprint(2)\n```", "print(2)"),
    ("`print(1)`", "print(1)"),
    ("print(1)\n```", "print(1)"),
    ("print(1)\n", "print(1)"),
])
def test_extract_code_as_livecodebench(text: str, code: str) -> None:
    assert extract_code(text) == code


def test_a_time_limit_fails_the_answer() -> None:
    outcome = _score({**STDIO, "private_test_cases": "[]"}, "```python\nwhile True:\n    pass\n```")
    assert outcome.score == 0.0 and "Time Limit Exceeded" in outcome.verdict.note

"""The `mbpp` preprocessor: a google-research-datasets/mbpp record → Sample, as lm-eval's ``mbpp`` task.

Published schema. Subset ``full`` (splits train / test / validation / prompt; lm-eval uses ``full``,
split ``test``, 500 records): ``task_id``, ``text``, ``code``, ``test_list`` (3 assert strings),
``test_setup_code``, ``challenge_test_list``. Subset ``sanitized``: ``prompt`` instead of ``text``,
``test_imports`` (a list) instead of ``test_setup_code``; both are accepted.

Prompt, exactly lm-eval 0.4's mbpp.yaml:
``"You are an expert Python programmer, and here is your task: {text} Your code should pass these
tests:\\n\\n{test_list[0]}\\n{test_list[1]}\\n{test_list[2]}\\n[BEGIN]\\n"``; few-shot examples end with
``{code}\\n[DONE]``, target delimiter "", examples separated by a blank line. lm-eval's shots are fixed:
tasks 2, 3 and 4 of the ``prompt`` split (its ``list_fewshot_samples``), reproduced in `LM_EVAL_FEWSHOT`
and used when ``preprocess_kwargs.lm_eval_fewshot`` is true (the template's setting); otherwise the
generic num_fewshot / fewshot_split machinery applies. Missing test_list entries render as "" (jinja).

The tests that score the completion are lm-eval's target, ``test_list[0..2]`` joined by newlines
(``challenge_test_list`` is not used, as in lm-eval). lm-eval leaves ``test_setup_code`` out of the
program; ``include_test_setup: true`` puts it (or the sanitized ``test_imports``) before the asserts.
"""
from __future__ import annotations

import re
from typing import Any, ClassVar

from gage_eval.benchmarks.base import BenchmarkPreprocessor
from gage_eval.datasets.preprocess import RecordError
from gage_eval.registry import registry

#: lm-eval 0.4.13 lm_eval/tasks/mbpp/utils.py list_fewshot_samples(): MBPP prompt-split tasks 2, 3, 4.
LM_EVAL_FEWSHOT: tuple[dict[str, Any], ...] = (
    {"task_id": 2, "text": "Write a function to find the similar elements from the given two tuple lists.",
     "code": "def similar_elements(test_tup1, test_tup2):\r\n  res = tuple(set(test_tup1) & set(test_tup2))\r\n"
             "  return (res) ",
     "test_list": ["assert similar_elements((3, 4, 5, 6),(5, 7, 4, 10)) == (4, 5)",
                   "assert similar_elements((1, 2, 3, 4),(5, 4, 3, 7)) == (3, 4)",
                   "assert similar_elements((11, 12, 14, 13),(17, 15, 14, 13)) == (13, 14)"]},
    {"task_id": 3, "text": "Write a python function to identify non-prime numbers.",
     "code": "import math\r\ndef is_not_prime(n):\r\n    result = False\r\n    for i in range(2,int(math.sqrt(n)) + 1):"
             "\r\n        if n % i == 0:\r\n            result = True\r\n    return result",
     "test_list": ["assert is_not_prime(2) == False", "assert is_not_prime(10) == True",
                   "assert is_not_prime(35) == True"]},
    {"task_id": 4, "text": "Write a function to find the largest integers from a given list of numbers using heap "
                           "queue algorithm.",
     "code": "import heapq as hq\r\ndef heap_queue_largest(nums,n):\r\n  largest_nums = hq.nlargest(n, nums)\r\n"
             "  return largest_nums",
     "test_list": ["assert heap_queue_largest( [25, 35, 22, 85, 14, 65, 75, 22, 58],3)==[85, 75, 65] ",
                   "assert heap_queue_largest( [25, 35, 22, 85, 14, 65, 75, 22, 58],2)==[85, 75] ",
                   "assert heap_queue_largest( [25, 35, 22, 85, 14, 65, 75, 22, 58],5)==[85, 75, 65, 58, 35]"]},
)

_DEF = re.compile(r"^def[ \t]+([A-Za-z_]\w*)[ \t]*\(", re.MULTILINE)


@registry.asset("dataset_preprocessors", "mbpp", desc="google-research-datasets/mbpp records (full or sanitized) "
                "-> lm-eval's mbpp prompt ([BEGIN]/[DONE], 3 fixed shots) and its test program",
                tags=("code", "mbpp"))
class MBPPPreprocessor(BenchmarkPreprocessor):
    output_type: ClassVar[str] = "generate_until"
    target_delimiter: ClassVar[str] = ""
    fewshot_delimiter: ClassVar[str] = "\n\n"

    def _text(self, doc: dict[str, Any]) -> str:
        # full: "text"; sanitized: "prompt" (a missing field is reported as "text", the lm-eval name)
        value = self.field(doc, "prompt" if doc.get("text") is None and "prompt" in doc else "text")
        if not isinstance(value, str):
            raise RecordError(f"'text' must be a string, not {type(value).__name__}", "text")
        return value

    def _tests(self, doc: dict[str, Any]) -> list[str]:
        tests = self.field(doc, "test_list")
        if not isinstance(tests, (list, tuple)) or not all(isinstance(t, str) for t in tests):
            raise RecordError("'test_list' must be a list of assert strings", "test_list")
        if not tests:
            raise RecordError("'test_list' is empty: nothing would test the completion", "test_list")
        return [tests[i] if i < len(tests) else "" for i in range(3)]  # jinja renders a missing item as ""

    def doc_to_text(self, doc: dict[str, Any]) -> str:
        t = self._tests(doc)
        return (f"You are an expert Python programmer, and here is your task: {self._text(doc)} Your code should "
                f"pass these tests:\n\n{t[0]}\n{t[1]}\n{t[2]}\n[BEGIN]\n")

    def doc_to_target(self, doc: dict[str, Any]) -> str:
        return "\n".join(self._tests(doc))

    def fewshot_target(self, doc: dict[str, Any]) -> str:
        code = self.field(doc, "code")
        if not isinstance(code, str):
            raise RecordError(f"'code' must be a string, not {type(code).__name__}", "code")
        return code + "\n[DONE]"

    def select_fewshot(self, doc: dict[str, Any], num: int, sampler: str, seed: int) -> list[dict[str, Any]]:
        if self.kwargs.get("lm_eval_fewshot"):
            return [dict(d) for d in LM_EVAL_FEWSHOT]
        return super().select_fewshot(doc, num, sampler, seed)

    def _setup(self, doc: dict[str, Any]) -> str:
        if not self.kwargs.get("include_test_setup"):
            return ""
        setup = doc.get("test_setup_code")
        if setup is None and isinstance(doc.get("test_imports"), list):
            setup = "\n".join(str(line) for line in doc["test_imports"])
        if setup is not None and not isinstance(setup, str):
            raise RecordError(f"'test_setup_code' must be a string, not {type(setup).__name__}", "test_setup_code")
        return setup or ""

    def extra_metadata(self, doc: dict[str, Any]) -> dict[str, Any]:
        code = doc.get("code") if isinstance(doc.get("code"), str) else ""
        tests = self.doc_to_target(doc)
        # The function the tests call, when the reference solution defines it: picks the right fenced block.
        entry_point = next((name for name in _DEF.findall(code) if re.search(rf"\b{name}\s*\(", tests)), None)
        program: dict[str, Any] = {"format": "mbpp", "tests": tests, "setup": self._setup(doc)}
        if entry_point:
            program["entry_point"] = entry_point
        return {"task_id": self.field(doc, "task_id"), "reference_code": code or None, "program": program}

    def to_sample(self, record: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        fields = super().to_sample(record, **kwargs)
        fields["id"] = str(self.field(record, "task_id"))
        return fields

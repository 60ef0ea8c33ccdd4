"""Our BFCL checker against bfcl-eval's own, record by record.

For the first entries of every single-turn category, outputs generated from the possible answers (right ones and
the usual mistakes, see bfcl_outputs.py) are scored in function-calling and prompting form by gage
(`single_turn_verdict`) and by bfcl-eval's `_evaluate_single_ast_entry` / `_evaluate_single_relevance_entry`
(decoding included, through its OpenAI handler): the verdicts must be identical for every record.
"""
from __future__ import annotations

import copy
from collections import Counter
from typing import Any

import pytest

from gage_eval.benchmarks.bfcl.data import AST_CATEGORIES, RELEVANCE_CATEGORIES, category_file, package_data_dir, \
    read_lines
from gage_eval.benchmarks.bfcl.decode import fc_response
from gage_eval.benchmarks.bfcl.metric import single_turn_verdict

from .bfcl_outputs import fc_reply, perturbations, prompt_reply, relevance_outputs
from .bfcl_reference import reference

PER_CATEGORY = 30
FC_MODEL, PROMPT_MODEL = "gpt-4o-2024-11-20-FC", "gpt-4o-2024-11-20"  # underscore_to_dot True / False in bfcl-eval


def _entries(category: str) -> list[dict[str, Any]]:
    root = package_data_dir()
    entries = read_lines(category_file(root, category))[:PER_CATEGORY]
    if category in RELEVANCE_CATEGORIES:
        return entries
    truths = read_lines(category_file(root / "possible_answer", category))[:PER_CATEGORY]
    return [{**e, "ground_truth": t["ground_truth"]} for e, t in zip(entries, truths)]


def _records(category: str) -> list[tuple[dict[str, Any], str, Any]]:
    out = []
    for entry in _entries(category):
        outputs = relevance_outputs(entry["function"]) if category in RELEVANCE_CATEGORIES else \
            perturbations(entry["function"], entry["ground_truth"])
        out.extend((entry, kind, calls) for kind, calls in outputs)
    return out


def _reference_verdict(ref: Any, entry: dict[str, Any], category: str, mode: str, result: Any) -> bool:
    handler = ref.handler(mode == "fc")
    model = FC_MODEL if mode == "fc" else PROMPT_MODEL
    prompt_entry = copy.deepcopy({k: v for k, v in entry.items() if k != "ground_truth"})
    if category in RELEVANCE_CATEGORIES:
        out = ref.eval_runner._evaluate_single_relevance_entry(handler, entry["id"], result, prompt_entry, model,
                                                               category)
    else:
        from bfcl_eval.constants.enums import Language, ReturnFormat

        out = ref.eval_runner._evaluate_single_ast_entry(handler, entry["id"], result, entry["ground_truth"],
                                                         prompt_entry, model, category, Language.PYTHON,
                                                         ReturnFormat.PYTHON)
    return bool(out["valid"])


@pytest.mark.parametrize("category", AST_CATEGORIES + RELEVANCE_CATEGORIES)
def test_verdicts_equal_bfcl_eval_record_by_record(category: str) -> None:
    ref = reference()
    records = _records(category)
    verdicts: Counter[tuple[str, bool]] = Counter()
    mismatches = []
    for entry, kind, calls in records:
        for mode in ("fc", "prompt"):
            if mode == "fc":
                tool_calls, text, theirs = fc_reply(kind, calls)
                ours_reply: Any = fc_response(tool_calls, text)
            else:
                ours_reply = theirs = prompt_reply(kind, calls)
            ours = single_turn_verdict(category, mode, ours_reply, entry["function"], entry.get("ground_truth"))
            expected = _reference_verdict(ref, entry, category, mode, copy.deepcopy(theirs))
            verdicts[(kind, expected)] += 1
            if ours["valid"] != expected:
                mismatches.append((entry["id"], kind, mode, ours, expected))
    assert not mismatches, mismatches[:3]
    assert len(records) * 2 >= 100
    # the generated outputs exercise both verdicts
    assert any(ok for (_, ok) in verdicts) and any(not ok for (_, ok) in verdicts)

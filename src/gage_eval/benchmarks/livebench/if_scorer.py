"""LiveBench instruction following, scored with gage's IFEval checkers (`gage_eval.benchmarks.ifeval`).

LiveBench scores each question as the mean of two strict IFEval numbers: 1 if every instruction is followed
(prompt level) and the fraction of instructions followed (instruction level)
(``process_results/instruction_following/utils.py: score_results``). Questions released before 2025-11-25
use Google's IFEval instructions, which our checkers implement (checked against lm-eval's copy, which is
identical to LiveBench's in every check); the answer is stripped first. Later questions use AllenAI's IFBench
instructions, none of which is an IFEval one: they are left unscored (counted, with the reason).
"""
from __future__ import annotations

from typing import Any

from gage_eval.benchmarks.ifeval.checkers import INSTRUCTIONS, InstructionError, build_all, evaluate
from gage_eval.benchmarks.ifeval.preprocess import clean_kwargs
from gage_eval.benchmarks.livebench.text import Unscorable, Verdict

IFBENCH_FROM = "2025-11-25"


def instruction_following(metadata: dict[str, Any], answer: str) -> Verdict:
    if str(metadata.get("livebench_release_date") or "") >= IFBENCH_FROM:
        raise Unscorable("IFBench-format instruction following (released from 2025-11-25): its checkers are not "
                         "implemented")
    ids = metadata.get("instruction_id_list") or []
    unknown = [i for i in ids if i not in INSTRUCTIONS]
    if unknown:
        raise Unscorable(f"instruction '{unknown[0]}' is not an IFEval instruction")
    try:
        instructions = build_all(ids, clean_kwargs(metadata.get("kwargs") or []))
    except InstructionError as exc:
        raise Unscorable(f"{exc.field}: {exc}") from None
    followed = [r.strict for r in evaluate(instructions, answer.strip())]
    score = (float(all(followed)) + sum(followed) / len(followed)) / 2 if followed else 0.0
    return Verdict(score, {i.id: f for i, f in zip(instructions, followed)})

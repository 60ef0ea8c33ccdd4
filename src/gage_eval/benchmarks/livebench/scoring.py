"""Which scorer a LiveBench question gets, as ``gen_ground_truth_judgment.play_a_match_gt`` routes it (by the
subtask when the question has one, else by the task), and what becomes of the answer's score.

Outcomes: ``scored`` (a score in [0, 1]); ``eval_error`` (LiveBench's scorer would raise on this answer or
question, e.g. an unclosed \\boxed{}: score 0, as LiveBench records it, with the error kept); ``unscored`` (a
task this implementation does not cover, or a question it cannot check: no score, counted and reported, never
a silent 0). A sandbox that cannot run code at all raises instead: that is the machine's fault, not the
model's.
"""
from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from gage_eval.benchmarks.livebench import (
    data_scorers,
    language_scorers,
    math_scorers,
    reasoning_scorers,
    tables,
)
from gage_eval.benchmarks.livebench.coding import score_coding
from gage_eval.benchmarks.livebench.equivalence import DEFAULT_TIMEOUT_S, integrals_normalized, worker
from gage_eval.benchmarks.livebench.if_scorer import instruction_following
from gage_eval.benchmarks.livebench.text import SandboxUnavailable, Unscorable, Verdict, strip_thinking

LCB_TASKS = ("LCB_generation", "coding_completion")
UNCOVERED = {"code_generation": "BigCodeBench-style code_generation is not implemented",
             "code_completion": "BigCodeBench-style code_completion is not implemented",
             "agentic_coding": "agentic coding needs Docker images of the repositories",
             "sudoku": "the sudoku scorer is not implemented"}


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Literal["scored", "eval_error", "unscored"]
    score: float | None
    scorer: str
    verdict: Verdict | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Settings:
    sympy_timeout_s: float = DEFAULT_TIMEOUT_S
    coding_memory_mb: int = 4096


def task_key(metadata: dict[str, Any]) -> str:
    return str(metadata.get("subtask") or metadata.get("task") or "")


def _route(metadata: dict[str, Any], question: str) -> tuple[str, Callable[..., Any] | None]:
    """(scorer name, a function of (metadata, answer) -> Verdict, or an awaitable of one; None: uncovered).
    `question` is the question's text (turns[0]), which AMC and tablereformat scoring read."""
    key, task = task_key(metadata), str(metadata.get("task") or "")
    release = str(metadata.get("livebench_release_date") or "")
    truth = metadata.get("ground_truth")
    parts = key.split("_")
    if metadata.get("category") == "instruction_following":
        return "instruction_following", lambda m, a: instruction_following(m, a)
    if parts[0] in ("amc", "smc", "aime", "imo", "usamo") or (len(parts) > 1 and parts[1] == "amc"):
        if parts[0] in ("amc", "smc") or (len(parts) > 1 and parts[1] == "amc"):
            return "math_contest", lambda m, a: math_scorers.math_contest(truth, a, question)
        if parts[0] == "aime":
            return "aime", lambda m, a: math_scorers.aime(truth, a)
        return "proof_rearrangement", lambda m, a: math_scorers.proof_rearrangement(truth, a)
    simple: dict[str, tuple[str, Callable[..., Verdict]]] = {
        "cta": ("cta", data_scorers.cta), "tablejoin": ("tablejoin", data_scorers.tablejoin),
        "consecutive_events": ("consecutive_events", data_scorers.consecutive_events),
        "web_of_lies_v2": ("web_of_lies_v2", reasoning_scorers.web_of_lies_v2),
        "web_of_lies_v3": ("web_of_lies_v3", reasoning_scorers.web_of_lies_v3),
        "house_traversal": ("house_traversal", reasoning_scorers.house_traversal),
        "spatial": ("spatial", reasoning_scorers.spatial),
        "theory_of_mind": ("theory_of_mind", reasoning_scorers.theory_of_mind),
        "logic_with_navigation": ("logic_with_navigation", reasoning_scorers.logic_with_navigation),
        "typos": ("typos", language_scorers.typos),
        "plot_unscrambling": ("plot_unscrambling", language_scorers.plot_unscrambling),
    }
    if key in simple:
        name, fn = simple[key]
        return name, lambda m, a: fn(truth, a)
    if key == "tablereformat":
        return "tablereformat", lambda m, a: tables.tablereformat(question, truth, a, release)
    if "amps_hard" in key.lower() or "amps_hard" in task.lower():
        return "amps_hard", _amps_hard
    if key == "integrals_with_game":
        return "integrals_with_game", _integrals
    if "zebra_puzzle" in key:
        fn = reasoning_scorers.zebra_for_release(release)
        return fn.__name__, lambda m, a: fn(truth, a)
    if key == "connections":
        fn = language_scorers.connections_for_release(release)
        return fn.__name__, lambda m, a: fn(truth, a)
    if key in LCB_TASKS:
        return "lcb", None  # run by score_question: it needs the sandbox
    return key or "?", None


async def _amps_hard(metadata: dict[str, Any], answer: str, settings: Settings) -> Verdict:
    truth, parsed, verdict = math_scorers.amps_hard_extract(metadata["ground_truth"], answer)
    if verdict is not None:
        return verdict
    status, value = await _sympy("amps", truth, parsed, timeout_s=settings.sympy_timeout_s)
    if status == "ok" and value:
        return Verdict(1.0, parsed, "equivalent (sympy)")
    why = "timed out" if status == "timeout" else "error: " + str(value) if status == "error" else "no equivalence"
    # LiveBench then asks an LLM (gpt-5-mini, which also accepts the negated expression); without its key it
    # records an evaluation error with score 0. Here: 0, flagged, and counted in the summary.
    return Verdict(0.0, parsed, f"sympy: {why}; LiveBench would ask an LLM", flag="llm_fallback")


async def _integrals(metadata: dict[str, Any], answer: str, settings: Settings) -> Verdict:
    truth = str(metadata["ground_truth"])
    status, value = await _sympy("integrals", truth, truth, timeout_s=settings.sympy_timeout_s)
    if status == "ok" and value is None:
        return Verdict(0.0, None, "the ground truth does not parse")
    solution = math_scorers.integrals_solution(answer)
    if solution and await _integrals_match(truth, solution, settings):
        return Verdict(1.0, solution, "<solution>, equivalent (sympy)")
    boxed = math_scorers.integrals_boxed(answer)
    if boxed is not None and await _integrals_match(truth, boxed, settings):
        return Verdict(1.0, boxed, "\\boxed{}, equivalent (sympy)")
    tail = answer[-200:]
    return Verdict(float(integrals_normalized(truth) in integrals_normalized(tail)), tail[-60:], "end of the answer")


async def _integrals_match(truth: str, candidate: str, settings: Settings) -> bool:
    status, value = await _sympy("integrals", truth, candidate, timeout_s=settings.sympy_timeout_s)
    return status == "ok" and bool(value)


async def _sympy(fn: str, *args: Any, timeout_s: float) -> tuple[str, Any]:
    call = functools.partial(worker().call, fn, *args, timeout_s=timeout_s)
    return await asyncio.get_running_loop().run_in_executor(None, call)


async def score_question(metadata: dict[str, Any], question: str, raw_answer: str,
                         settings: Settings | None = None) -> Outcome:
    settings = settings or Settings()
    answer = strip_thinking(raw_answer)
    name, fn = _route(metadata, question)
    if fn is None and name != "lcb":
        return Outcome("unscored", None, name, reason=UNCOVERED.get(name, f"task '{name}' has no scorer here"))
    needs_truth = name not in ("lcb", "instruction_following")
    if needs_truth and metadata.get("ground_truth") is None:
        return Outcome("unscored", None, name, reason="the question has no ground_truth")
    try:
        if name == "lcb":
            verdict = await score_coding(metadata, answer, settings.coding_memory_mb)
        elif fn in (_amps_hard, _integrals):
            verdict = await fn(metadata, answer, settings)
        else:  # pure Python, some of it slow (pandas, difflib): off the event loop
            verdict = await asyncio.get_running_loop().run_in_executor(None, fn, metadata, answer)
    except Unscorable as exc:
        return Outcome("unscored", None, name, reason=str(exc))
    except SandboxUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - LiveBench: any exception while scoring -> eval_error, score 0
        return Outcome("eval_error", 0.0, name, reason=f"{type(exc).__name__}: {exc}"[:300])
    return Outcome("scored", min(1.0, max(0.0, float(verdict.score))), name, verdict)

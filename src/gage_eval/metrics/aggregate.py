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
Z95 = 1.959963984540054  # NormalDist().inv_cdf(0.975): the exact quantile, so intervals match scipy's
WILSON = "Wilson score interval"
NORMAL = "normal approximation (mean ± 1.96 stderr)"
NORMAL_CLIPPED = NORMAL + ", clipped to [0, 1]"


def wilson_interval(successes: int, n: int, z: float = Z95) -> list[float]:
    """95% Wilson score interval of a proportion (no continuity correction, as scipy's `method='wilson'`).

    Why not mean ± 1.96 stderr: at 0/n, n/n or small n the normal interval collapses to zero width or leaves
    [0, 1]; the Wilson interval always lies inside [0, 1], contains the observed proportion and has close
    to nominal coverage (Brown, Cai & DasGupta 2001).
    """
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # Rounding can push an end a hair past the observed proportion or [0, 1]; neither is meaningful.
    return [max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))]


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
        # Whether every value so far is 0/1 (a proportion: Wilson interval) or within [0, 1] (CI clipped).
        self.binary = True
        self.unit_range = True

    def add(self, x: float | list[float] | None) -> None:
        # A list is several observations of one sample (e.g. IFEval's per-instruction results): they are
        # flattened, so the mean is a micro average over observations, as lm-evaluation-harness computes it.
        if isinstance(x, (list, tuple)):
            for item in x:
                self.add(item)
            return
        if x is None or math.isnan(x):
            return
        x = float(x)
        if x != 0.0 and x != 1.0:
            self.binary = False
            if not 0.0 <= x <= 1.0:
                self.unit_range = False
        self.values.append(x)

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

    def mean_ci(self, mean: float, stderr: float | None) -> tuple[list[float] | None, str | None]:
        """The 95% interval of a mean; stderr itself stays the sample stderr, as lm-eval reports it."""
        if self.binary:
            return wilson_interval(round(math.fsum(self.values)), self.n), WILSON
        if stderr is None:
            return None, None
        low, high = mean - Z95 * stderr, mean + Z95 * stderr
        if self.unit_range:  # a mean of values in [0, 1] (e.g. MC2 probabilities) cannot leave [0, 1]
            return [max(0.0, low), min(1.0, high)], NORMAL_CLIPPED
        return [low, high], NORMAL

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": None, "stderr": None, "count": self.n, "aggregation": self.aggregation}
        if self.n == 0:
            return out
        if self.aggregation == "mean":
            out["value"], out["stderr"] = self.mean(), self.stderr()
            ci, method = self.mean_ci(out["value"], out["stderr"])
            if ci is not None:
                out["ci95"], out["ci_method"] = ci, method
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

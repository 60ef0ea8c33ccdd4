"""Aggregation of per-sample metric values: streaming, so a million samples cost O(metrics) memory
for the mean, and a float64 array per value only for order statistics."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

AGGREGATIONS = ("mean", "sum", "min", "max", "median")


@dataclass
class RunningStat:
    """Welford mean/variance; values kept only when an order statistic needs them."""

    aggregation: str = "mean"
    n: int = 0
    mean: float = 0.0
    m2: float = 0.0
    total: float = 0.0
    lo: float = math.inf
    hi: float = -math.inf
    values: list[float] = field(default_factory=list)

    def add(self, x: float) -> None:
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return
        self.n += 1
        delta = x - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (x - self.mean)
        self.total += x
        self.lo = min(self.lo, x)
        self.hi = max(self.hi, x)
        if self.aggregation == "median":
            self.values.append(x)

    def stderr(self) -> float | None:
        # Sample standard deviation (ddof=1) over sqrt(n), as lm-evaluation-harness reports it.
        if self.n < 2:
            return None
        return math.sqrt(self.m2 / (self.n - 1)) / math.sqrt(self.n)

    def result(self) -> dict[str, Any]:
        if self.n == 0:
            return {"value": None, "stderr": None, "count": 0, "aggregation": self.aggregation}
        value = {"mean": self.mean, "sum": self.total, "min": self.lo, "max": self.hi,
                 "median": float(np.median(self.values)) if self.values else None}[self.aggregation]
        out: dict[str, Any] = {"value": value, "count": self.n, "aggregation": self.aggregation}
        out["stderr"] = self.stderr() if self.aggregation == "mean" else None
        if self.aggregation == "mean" and out["stderr"] is not None:
            half = 1.96 * out["stderr"]
            out["ci95"] = [self.mean - half, self.mean + half]
        return out


class MetricAggregator:
    """Collects values by name; the aggregation of each name comes from its metric's config."""

    def __init__(self, aggregations: dict[str, str] | None = None) -> None:
        self._aggregations = aggregations or {}
        self._stats: dict[str, RunningStat] = {}

    def add(self, values: dict[str, float]) -> None:
        for name, value in values.items():
            stat = self._stats.get(name)
            if stat is None:
                base = name.split(".", 1)[0]
                stat = self._stats[name] = RunningStat(self._aggregations.get(name, self._aggregations.get(base, "mean")))
            stat.add(value)

    def results(self) -> dict[str, dict[str, Any]]:
        return {name: stat.result() for name, stat in sorted(self._stats.items())}

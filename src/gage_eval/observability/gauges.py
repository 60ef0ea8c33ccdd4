"""Time-sampled gauges (queue depth, in-flight samples) summarised for summary.json."""
from __future__ import annotations

from typing import Any


class Gauge:
    """Bounded reservoir of periodic readings; cheap enough to sample every 100 ms for days."""

    def __init__(self, name: str, capacity: int = 50_000) -> None:
        self.name = name
        self._values: list[float] = []
        self._capacity = capacity
        self._stride = 1
        self._tick = 0

    def observe(self, value: float) -> None:
        self._tick += 1
        if self._tick % self._stride:
            return
        self._values.append(value)
        if len(self._values) >= self._capacity:  # halve resolution instead of growing
            self._values = self._values[::2]
            self._stride *= 2

    def summary(self) -> dict[str, Any]:
        if not self._values:
            return {"samples": 0}
        import numpy as np  # at the end of a run, not at start-up (numpy costs ~0.1 s to import)

        arr = np.asarray(self._values)
        return {"samples": int(arr.size), "mean": float(arr.mean()), "p50": float(np.percentile(arr, 50)),
                "p95": float(np.percentile(arr, 95)), "max": float(arr.max())}

"""Referenced by import path from test configs (`tests.plugin_mod:...`)."""
from __future__ import annotations

from gage_eval.metrics.base import MetricContext


def answer_length(context: MetricContext, scale: float = 1.0) -> float:
    return len(context.prediction) * scale

"""Metrics: base classes, aggregation and built-ins."""
from __future__ import annotations

from typing import Any, Callable

from gage_eval.config.models import MetricSpec
from gage_eval.errors import ConfigError
from gage_eval.metrics.base import Metric, MetricContext, MetricResult, SimpleMetric
from gage_eval.registry import registry

__all__ = ["Metric", "MetricContext", "MetricResult", "SimpleMetric", "build_metric"]


class _FunctionMetric(Metric):
    """Wraps `fn(context) -> float | (float, details) | {name: float}`."""

    def __init__(self, metric_id: str, fn: Callable[..., Any], **params: Any) -> None:
        super().__init__(metric_id, **params)
        self._fn = fn

    def evaluate(self, context: MetricContext) -> MetricResult:
        out = self._fn(context, **self.params)
        if isinstance(out, MetricResult):
            return out
        if isinstance(out, dict):
            return MetricResult({f"{self.metric_id}.{k}": float(v) for k, v in out.items()})
        value, details = out if isinstance(out, tuple) else (out, {})
        return MetricResult({self.metric_id: float(value)}, details)


def build_metric(spec: MetricSpec, config_path: str = "metrics") -> Metric:
    impl = registry.get("metrics", spec.implementation, config_path=f"{config_path}.implementation")
    try:
        if isinstance(impl, type) and issubclass(impl, Metric):
            return impl(spec.metric_id, **spec.params)
        if callable(impl):
            return _FunctionMetric(spec.metric_id, impl, **spec.params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"metric '{spec.metric_id}' rejected its params: {exc}", path=f"{config_path}.params",
                          fix="check the parameter names and values of this metric (`gage list metrics`)") from None
    raise ConfigError(f"'{spec.implementation}' is not a metric", path=f"{config_path}.implementation",
                      fix="register a Metric subclass or a function under kind 'metrics'")

"""`execution.distributed.scoring_only`: samples run on this machine's event loop, and each metric evaluation
(math verification, code execution: CPU that would otherwise stall the loop) is a Ray task on the cluster.

The metric object itself travels (put once in Ray's object store), so a task computes exactly what the
local metric would; the step chain and the record are unchanged.
"""
from __future__ import annotations

import asyncio
from typing import Any

from gage_eval.distributed.protocol import Hello, check_versions, hello, local_versions
from gage_eval.metrics.base import Metric, MetricContext, MetricResult


def _score(metric: Metric, context: MetricContext) -> MetricResult:
    if type(metric).aevaluate is Metric.aevaluate:
        return metric.evaluate(context)
    return asyncio.run(metric.aevaluate(context))  # e.g. code execution in a subprocess


class RayScoredMetric(Metric):
    def __init__(self, inner: Metric, score: Any) -> None:
        import ray

        super().__init__(inner.metric_id, **inner.params)
        self.inner = inner
        self._ref = ray.put(inner)
        self._score = score

    def evaluate(self, context: MetricContext) -> MetricResult:
        return self.inner.evaluate(context)

    async def aevaluate(self, context: MetricContext) -> MetricResult:
        return await self._score.remote(self._ref, context)


def check_nodes(runtime_env: dict[str, Any] | None = None) -> None:
    """Every alive node gets a task that reports its environment; a mismatch stops the run before scoring."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from gage_eval.distributed.ray_pool import startup_error

    probe = ray.remote(num_cpus=0, runtime_env=runtime_env)(hello)
    driver = local_versions()
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    refs = [probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)).remote()
            for n in nodes]
    for i, ref in enumerate(refs):
        try:
            info: Hello = ray.get(ref, timeout=120)
        except Exception as exc:  # noqa: BLE001 - translated into what to do
            raise startup_error(exc, i) from None
        check_versions(driver, info, f"Ray node {nodes[i].get('NodeManagerAddress', i)}")


def spread_metrics(plans: list[Any], runtime_env: dict[str, Any] | None = None) -> None:
    """Replace every task's metrics by Ray-scored ones, in place."""
    import ray

    check_nodes(runtime_env)
    score = ray.remote(num_cpus=1, runtime_env=runtime_env)(_score)
    for plan in plans:
        plan.metrics = [RayScoredMetric(m, score) for m in plan.metrics]

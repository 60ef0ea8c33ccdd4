"""The built-in step implementations, registered under kind `pipeline_steps`.

Each step is `async (ctx, adapter, chain) -> None` and follows the contracts of spec §3.1.2.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from gage_eval.metrics.base import MetricContext
from gage_eval.registry import registry
from gage_eval.sample import append_predict_result, update_eval_result
from gage_eval.steps.context import StepContext

if TYPE_CHECKING:
    from gage_eval.roles.base import RoleAdapter
    from gage_eval.steps.chain import StepChain


@registry.asset("pipeline_steps", "support", desc="append to sample.support_outputs or mutate the sample")
async def support_step(ctx: StepContext, adapter: RoleAdapter | None, chain: StepChain) -> None:
    assert adapter is not None
    out = await adapter.execute({"sample": ctx.sample, "step": "support", "scope": ctx.scope})
    ctx.sample.support_outputs.append({"adapter_id": adapter.adapter_id, **out})


@registry.asset("pipeline_steps", "inference", desc="call the dut; append to sample.predict_result")
async def inference_step(ctx: StepContext, adapter: RoleAdapter | None, chain: StepChain) -> None:
    assert adapter is not None
    out = await adapter.execute({"sample": ctx.sample, "scope": ctx.scope})
    append_predict_result(ctx.sample, out)


@registry.asset("pipeline_steps", "judge", desc="judge the model output; merge into sample.eval_result")
async def judge_step(ctx: StepContext, adapter: RoleAdapter | None, chain: StepChain) -> None:
    assert adapter is not None
    out = await adapter.execute({"sample": ctx.sample, "model_output": ctx.model_output, "trace": chain.trace,
                                 "scope": ctx.scope})
    if "judge_calls" in out and "judge_calls" in ctx.judge_output:
        # Several judges on one sample (e.g. truthful + informative): keep every judge's cost, not the last.
        out = {**out, "judge_calls": {**ctx.judge_output["judge_calls"], **out["judge_calls"]}}
    ctx.judge_output.update(out)
    update_eval_result(ctx.sample, out)


@registry.asset("pipeline_steps", "arena", desc="run an arena adapter; its output is the model output")
async def arena_step(ctx: StepContext, adapter: RoleAdapter | None, chain: StepChain) -> None:
    assert adapter is not None
    out = await adapter.execute({"sample": ctx.sample, "step": "arena", "scope": ctx.scope})
    append_predict_result(ctx.sample, out)


@registry.asset("pipeline_steps", "auto_eval", desc="compute per-sample metrics")
async def auto_eval_step(ctx: StepContext, adapter: RoleAdapter | None, chain: StepChain) -> None:
    mctx = MetricContext(ctx.sample, ctx.model_output, ctx.judge_output or dict(ctx.sample.eval_result))
    for metric in chain.metrics:
        result = await metric.aevaluate(mctx)
        ctx.metrics.update(result.values)
        if result.details:
            ctx.metric_details[metric.metric_id] = result.details



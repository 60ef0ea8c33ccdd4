"""`bfcl_accuracy`: BFCL's per-entry verdict (1 correct, 0 not), as bfcl-eval's eval_runner decides it.

- AST categories (simple, multiple, parallel, parallel_multiple, live_*): the reply must decode to calls
  (`decode`), be in the call format, and pass the AST checker (`ast_checker.check`);
- irrelevance / live_irrelevance: right when the reply holds no call (it fails to decode, or decodes to none);
  live_relevance: right when it holds one;
- multi_turn_*: the recorded steps are replayed on fresh API instances and checked turn by turn against the
  ground truth's state and results (`multi_turn.check`), in a worker thread (it runs the API classes).

Details name the error type and messages bfcl-eval would write to its score file.
"""
from __future__ import annotations

import asyncio
from typing import Any

from gage_eval.benchmarks.bfcl import ast_checker
from gage_eval.benchmarks.bfcl.data import MULTI_TURN_CATEGORIES, RELEVANCE_CATEGORIES
from gage_eval.benchmarks.bfcl.decode import DecodeError, decode_ast, fc_response
from gage_eval.metrics.base import Metric, MetricContext, MetricResult
from gage_eval.registry import registry


def single_turn_verdict(category: str, mode: str, response: Any, functions: list[dict[str, Any]] | None,
                        ground_truth: list[dict[str, Any]] | None) -> dict[str, Any]:
    """bfcl-eval's _evaluate_single_ast_entry / _evaluate_single_relevance_entry for one decoded-or-not reply."""
    try:
        decoded = decode_ast(response, mode)
    except DecodeError as exc:
        if category in RELEVANCE_CATEGORIES:
            ok = "irrelevance" in category
            return {"valid": ok, "error_type": None if ok else "relevance_error:decoder_failed", "error": [str(exc)]}
        return {"valid": False, "error_type": "ast_decoder:decoder_failed",
                "error": [f"Invalid syntax. Failed to decode AST. {exc}"]}
    if category in RELEVANCE_CATEGORIES:
        called = not ast_checker.is_empty_output(decoded)
        ok = not called if "irrelevance" in category else called
        error_type = None if ok else ("irrelevance_error:decoder_success" if "irrelevance" in category
                                      else "relevance_error:decoder_failed")
        return {"valid": ok, "error_type": error_type, "decoded": decoded}
    if not ast_checker.is_call_format(decoded):
        return {"valid": False, "error_type": "ast_decoder:decoder_wrong_output_format", "decoded": repr(decoded)}
    result = ast_checker.check(functions or [], decoded, ground_truth or [], category, underscore_to_dot=mode == "fc")
    return {"valid": bool(result["valid"]), "error_type": result.get("error_type") if not result["valid"] else None,
            "error": result.get("error") or [], "decoded": decoded}


def reply_of(model_output: dict[str, Any], mode: str) -> Any:
    if mode == "fc":
        return fc_response(model_output.get("tool_calls"), model_output.get("answer"))
    return model_output.get("answer")


@registry.asset("metrics", "bfcl_accuracy", desc="BFCL v4 per-entry verdict: AST checker (single turn), "
                "relevance, or multi-turn state and response checks, as bfcl-eval scores them",
                tags=("bfcl", "agents", "tools"))
class BfclAccuracy(Metric):
    def evaluate(self, context: MetricContext) -> MetricResult:
        raise TypeError("bfcl_accuracy replays multi-turn entries in a thread: call aevaluate")

    async def aevaluate(self, context: MetricContext) -> MetricResult:
        meta = context.sample.metadata.get("bfcl")
        if not isinstance(meta, dict) or "category" not in meta:
            raise ValueError(f"sample {context.sample.id!r} has no metadata.bfcl: bfcl_accuracy needs the bfcl "  # noqa: TRY004
                             "preprocessor (params.preprocess: bfcl)")
        category, mode = meta["category"], meta.get("mode", "fc")
        if category in MULTI_TURN_CATEGORIES:
            from gage_eval.benchmarks.bfcl.multi_turn import check_trajectory

            steps = context.model_output.get("bfcl_steps")
            verdict = await asyncio.to_thread(check_trajectory, meta, steps, mode)
        else:
            verdict = single_turn_verdict(category, mode, reply_of(context.model_output, mode),
                                          meta.get("functions"), meta.get("ground_truth"))
        details = {"category": category, **{k: v for k, v in verdict.items() if k != "valid"}}
        return MetricResult({self.metric_id: 1.0 if verdict["valid"] else 0.0}, _jsonable(details))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)

"""Per-level figures, named as vLLM's `benchmark_serving.py` / `vllm bench serve` names them
(mean_/median_/std_/pNN_ + ttft|tpot|itl|e2el + _ms; request_throughput, output_throughput, ...)."""
from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from gage_eval.perf.client import RequestRecord

PERCENTILES = (50, 90, 95, 99)


def _describe(name: str, values_s: list[float], percentiles: tuple[int, ...]) -> dict[str, float | None]:
    arr = np.asarray(values_s, dtype=float) * 1000
    out: dict[str, float | None] = {}
    empty = arr.size == 0
    out[f"mean_{name}_ms"] = None if empty else float(arr.mean())
    out[f"median_{name}_ms"] = None if empty else float(np.median(arr))
    out[f"std_{name}_ms"] = None if empty else float(arr.std())
    for p in percentiles:
        out[f"p{p}_{name}_ms"] = None if empty else float(np.percentile(arr, p))
    return out


def level_stats(records: list[RequestRecord], duration_s: float, parallel: int, rate: float,
                percentiles: tuple[int, ...] = PERCENTILES) -> dict[str, Any]:
    ok = [r for r in records if r.success]
    failed = [r for r in records if not r.success]
    out_tokens = sum(r.output_tokens or 0 for r in ok)
    in_tokens = sum(r.prompt_tokens or 0 for r in ok)
    stats: dict[str, Any] = {
        "max_concurrency": parallel,
        "request_rate": rate,
        "duration": duration_s,
        "completed": len(ok),
        "failed": len(failed),
        "total_input_tokens": in_tokens,
        "total_output_tokens": out_tokens,
        "request_throughput": len(ok) / duration_s if duration_s else 0.0,
        "output_throughput": out_tokens / duration_s if duration_s else 0.0,
        "total_token_throughput": (in_tokens + out_tokens) / duration_s if duration_s else 0.0,
        "token_source": dict(Counter(r.token_source for r in ok)),
        "errors": dict(Counter((r.error or "")[:200] for r in failed)),
    }
    stats.update(_describe("ttft", [r.ttft_s for r in ok if r.ttft_s is not None], percentiles))
    stats.update(_describe("tpot", [t for r in ok if (t := r.tpot_s()) is not None], percentiles))
    stats.update(_describe("itl", [x for r in ok for x in r.itl_s], percentiles))
    stats.update(_describe("e2el", [r.latency_s for r in ok if r.latency_s is not None], percentiles))
    return stats

"""Accuracy of `gage perf`: against the test server with TTFT = 200 ms and 20 ms per token, 64 output tokens,
at parallel 1, 32 and 128, the reported mean TTFT and TPOT must be within 5% of the configured truth."""
from __future__ import annotations

import asyncio
import math

from gage_eval.perf.client import PerfTarget
from gage_eval.perf.prompts import build_requests
from gage_eval.perf.runner import LoadPlan, run_levels
from gage_eval.testing.server import start_server_process

TTFT_MS, ITL_MS, TOKENS = 200.0, 20.0, 64


def main() -> None:
    with start_server_process(ttft_ms=TTFT_MS, itl_ms=ITL_MS) as (_, url):
        target = PerfTarget(url=f"{url}/chat/completions", model="m", api="openai-chat", stream=True,
                            max_tokens=TOKENS, min_tokens=TOKENS, extra_body={}, timeout_s=60)
        requests = build_requests("random", 256, path=None, seed=0, min_prompt_len=16, max_prompt_len=64)
        plan = LoadPlan(parallel=[1, 32, 128], number=None, duration_s=None, rate=math.inf, warmup=1, seed=0)
        results = []
        for parallel, number in ((1, 8), (32, 64), (128, 256)):
            results += asyncio.run(run_levels(target, requests, LoadPlan(**{**plan.__dict__, "parallel": [parallel],
                                                                           "number": number}), {}))
    worst = 0.0
    for r in results:
        s = r.stats
        e_ttft = s["mean_ttft_ms"] / TTFT_MS - 1
        e_tpot = s["mean_tpot_ms"] / ITL_MS - 1
        worst = max(worst, abs(e_ttft), abs(e_tpot))
        print(f"parallel {r.parallel:>3}: {s['completed']} ok, mean TTFT {s['mean_ttft_ms']:.1f} ms ({e_ttft:+.2%}), "
              f"mean TPOT {s['mean_tpot_ms']:.2f} ms ({e_tpot:+.2%}), mean ITL {s['mean_itl_ms']:.2f} ms, "
              f"output tokens {s['total_output_tokens']}")
    print(f"worst error {worst:.2%} (target within 5%: {'PASS' if worst <= 0.05 else 'FAIL'})")


if __name__ == "__main__":
    main()

"""Client ceiling of `gage perf`: requests/s it sustains at parallel 128 against zero-delay non-streaming
replies, as a ratio to a bare asyncio keep-alive client hitting the same server in the same run (target ≥ 0.8)."""
from __future__ import annotations

import asyncio
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_http_throughput import bare_client  # noqa: E402

from gage_eval.perf.client import PerfTarget  # noqa: E402
from gage_eval.perf.prompts import build_requests  # noqa: E402
from gage_eval.perf.runner import LoadPlan, run_levels  # noqa: E402
from gage_eval.testing.server import start_server_process  # noqa: E402

N, PARALLEL = 20_000, 128


def main() -> None:
    with start_server_process() as (_, url):
        target = PerfTarget(url=f"{url}/chat/completions", model="bench", api="openai-chat", stream=False,
                            max_tokens=16, min_tokens=None, extra_body={}, timeout_s=60)
        requests = build_requests("random", 512, path=None, seed=0, min_prompt_len=2, max_prompt_len=4)
        plan = LoadPlan(parallel=[PARALLEL], number=N, duration_s=None, rate=math.inf, warmup=PARALLEL, seed=0)
        rounds = []
        for _ in range(3):  # interleaved, so drift in machine load hits both alike
            bare = asyncio.run(bare_client(url, N, PARALLEL))
            (level,) = asyncio.run(run_levels(target, requests, plan, {}))
            rounds.append((level.stats["request_throughput"], bare))
            print(f"gage perf {level.stats['request_throughput']:.0f} req/s, bare client {bare:.0f} req/s, "
                  f"ratio {level.stats['request_throughput'] / bare:.3f}")
    ratios = sorted(g / b for g, b in rounds)
    print(f"median ratio {ratios[1]:.3f} (target >= 0.8: {'PASS' if ratios[1] >= 0.8 else 'FAIL'})")


if __name__ == "__main__":
    main()

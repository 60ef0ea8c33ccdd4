"""`gage serve` overhead and dynamic batching, on one small random-weight Llama (built here, as in the tests).

1. The same ARC-style log-likelihood requests (questions x 4 options; one request per option) scored by the
   in-process `hf` backend and by `openai_http` against `gage serve` (started by a ManagedServer, as
   `launch: {preset: gage}` does); the values are checked equal (|Δ| < 1e-4) before any figure is printed,
   and the throughput ratio HTTP / in-process is the HTTP route's overhead.
2. Greedy generation requests/s through `gage serve` at concurrency 1 and 16: the ratio is what the hf
   backend's dynamic batching gives when concurrent clients share forward passes.
Client and server share this machine's cores, so the HTTP figures include the client's CPU.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_hf_loglikelihood import questions  # noqa: E402

from tests.tiny_model import build_tiny_llama  # noqa: E402


async def score_all(backend: object, qs: list[tuple[str, list[str]]]) -> list[tuple[float, bool]]:
    done = await asyncio.gather(*(backend.loglikelihood(c, conts) for c, conts in qs))  # type: ignore[attr-defined]
    return [s for q in done for s in q]


async def generate_rate(backend: object, prompts: list[str], concurrency: int, max_tokens: int) -> float:
    from gage_eval.backends.base import GenerationRequest

    gate = asyncio.Semaphore(concurrency)
    params = {"max_tokens": max_tokens, "temperature": 0}

    async def one(prompt: str) -> None:
        async with gate:
            await backend.generate(GenerationRequest(prompt=prompt, params=params))  # type: ignore[attr-defined]

    t0 = time.perf_counter()
    await asyncio.gather(*(one(p) for p in prompts))
    return len(prompts) / (time.perf_counter() - t0)


async def run(args: argparse.Namespace, model_dir: Path, log_dir: Path) -> None:
    from gage_eval.backends.hf import HFBackend
    from gage_eval.backends.openai_http import OpenAIHTTPBackend
    from gage_eval.serving.launch import LaunchConfig
    from gage_eval.serving.managed import ManagedServer

    qs = questions(args.requests // 4)
    n = sum(len(c) for _, c in qs)
    local = HFBackend(HFBackend.Settings(model_path=str(model_dir), device="cpu", batch_size=args.batch_size))
    await local.loglikelihood("warm", [" up"])
    t0 = time.perf_counter()
    want = await score_all(local, qs)
    in_process = n / (time.perf_counter() - t0)
    await local.aclose()
    del local

    launch = LaunchConfig(preset="gage", model_path=str(model_dir), served_model_name="m", ready_timeout_s=300,
                          batch_size=args.batch_size)
    async with ManagedServer(launch, name="bench", log_dir=log_dir) as server:
        remote = OpenAIHTTPBackend.from_config({"base_url": server.base_url, "model": "m", "api": "completions"})
        await remote.loglikelihood("warm", [" up"])
        t0 = time.perf_counter()
        got = await score_all(remote, qs)
        over_http = n / (time.perf_counter() - t0)
        worst = max(abs(a[0] - b[0]) for a, b in zip(got, want))
        assert worst < 1e-4, f"HTTP and in-process log-likelihoods differ by {worst}"
        prompts = [c for c, _ in qs][: args.generations]
        chat = OpenAIHTTPBackend.from_config({"base_url": server.base_url, "model": "m", "api": "completions"})
        rates = {c: await generate_rate(chat, prompts, c, args.max_tokens) for c in (1, 16)}
        await remote.aclose()
        await chat.aclose()
    print(f"log-likelihood, {n} requests, batch {args.batch_size}: in-process hf {in_process:.1f}/s, gage serve + "
          f"openai_http {over_http:.1f}/s; HTTP / in-process = {over_http / in_process:.2f} "
          f"(max |Δ loglikelihood| {worst:.1e})")
    print(f"generation, {len(prompts)} requests x {args.max_tokens} tokens through gage serve: concurrency 1 "
          f"{rates[1]:.2f} req/s, concurrency 16 {rates[16]:.2f} req/s; dynamic batching factor "
          f"{rates[16] / rates[1]:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=500, help="log-likelihood requests (4 per question)")
    ap.add_argument("--generations", type=int, default=48)
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=256)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_tiny_llama(Path(tmp) / "m", 512, hidden_size=args.hidden)
        asyncio.run(run(args, model_dir, Path(tmp) / "logs"))


if __name__ == "__main__":
    main()

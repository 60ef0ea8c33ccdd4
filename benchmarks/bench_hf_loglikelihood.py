"""Log-likelihood scoring throughput of the `hf` backend against lm-evaluation-harness's HFLM, same model, same
requests, same batch size, same machine and run (so the ratio is what counts on a noisy machine).

A small random-weight Llama (built here, as in the tests) scores N four-option questions three ways:
  sequential  — one `loglikelihood` call at a time (no batching possible)
  concurrent  — all questions in flight, as the engine runs them: the backend micro-batches
  lm-eval     — HFLM.loglikelihood on the whole request list at once (its best case: it sorts everything)
and the per-pair values are checked to agree (|Δ| < 1e-4) before any figure is printed.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.tiny_model import build_tiny_llama, vocabulary_words  # noqa: E402


def questions(n: int) -> list[tuple[str, list[str]]]:
    rng = random.Random(0)
    words = vocabulary_words(random.Random(0))
    out = []
    for _ in range(n):
        context = "Question: " + " ".join(rng.choice(words) for _ in range(rng.randint(8, 40))) + "?\nAnswer:"
        out.append((context, [" " + " ".join(rng.choice(words) for _ in range(rng.randint(1, 6))) for _ in range(4)]))
    return out


async def score(backend: object, qs: list[tuple[str, list[str]]], concurrent: bool) -> list[list[tuple[float, bool]]]:
    if concurrent:
        return list(await asyncio.gather(*(backend.loglikelihood(c, conts) for c, conts in qs)))  # type: ignore[attr-defined]
    return [await backend.loglikelihood(c, conts) for c, conts in qs]  # type: ignore[attr-defined]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=int, default=300)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=256, help="model width (bigger: compute dominates overhead)")
    args = ap.parse_args()

    import torch
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    from gage_eval.backends.hf import HFBackend

    torch.set_num_threads(2)
    qs = questions(args.questions)
    pairs = [(c, x) for c, conts in qs for x in conts]
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_tiny_llama(Path(tmp) / "m", 512, hidden_size=args.hidden)
        figures = {}
        results = {}
        for mode in ("sequential", "concurrent"):
            backend = HFBackend(HFBackend.Settings(model_path=str(model_dir), device="cpu", batch_size=args.batch_size))
            asyncio.run(backend.loglikelihood("warm", [" up"]))
            t0 = time.perf_counter()
            results[mode] = asyncio.run(score(backend, qs, mode == "concurrent"))
            figures[mode] = len(pairs) / (time.perf_counter() - t0)
        lm = HFLM(pretrained=str(model_dir), device="cpu", batch_size=args.batch_size)
        requests = [Instance("loglikelihood", {}, (c, x), i) for i, (c, x) in enumerate(pairs)]
        t0 = time.perf_counter()
        reference = lm.loglikelihood(requests, disable_tqdm=True)
        figures["lm-eval"] = len(pairs) / (time.perf_counter() - t0)
    ours = [s for q in results["concurrent"] for s in q]
    # Relative: wide random models give log-likelihoods in the thousands, where float32 sums differ by ~1e-4.
    worst = max(abs(a[0] - b[0]) / max(1.0, abs(b[0])) for a, b in zip(ours, reference))
    assert worst < 1e-5, f"disagreement with lm-eval: {worst}"
    for mode, rate in figures.items():
        print(f"{mode:>11}: {rate:8.1f} continuations/s")
    print(f"max relative |Δ loglikelihood| vs lm-eval: {worst:.2e}")
    print(f"micro-batching speed-up (concurrent / sequential): {figures['concurrent'] / figures['sequential']:.2f}x")
    print(f"gage hf backend / lm-eval HFLM throughput: {figures['concurrent'] / figures['lm-eval']:.2f}")


if __name__ == "__main__":
    main()

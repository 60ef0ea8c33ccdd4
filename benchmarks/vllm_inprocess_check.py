"""The in-process `vllm` backend vs the `hf` backend on one model: log-likelihoods and greedy generations.

Two halves, because vLLM (CPU build) and gage's torch cannot share one environment:
  VLLM_PYTHON vllm_inprocess_check.py MODEL OUT.json          # in vLLM's venv (GAGE_SRC=path/to/gage/src)
  python vllm_inprocess_check.py --compare-hf MODEL OUT.json  # in gage's venv: hf on the same pairs, compared
The first half also writes the raw prompt_logprobs vLLM returned for a few pairs (the shape fixture the unit
tests parse). Used by benchmarks/run_vllm_cpu.sh and tests/test_vllm_cpu.py.
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

if os.environ.get("GAGE_SRC"):
    sys.path.insert(0, os.environ["GAGE_SRC"])

OPTIONS = ["apple", "river", "stone", "cloud"]
PAIRS = [(f"Question: what is the {OPTIONS[i % 4]} number {i}?\nAnswer:", [f" {o}" for o in OPTIONS]) for i in range(8)]
PAIRS += [("", ["apple river stone"]), ("blue green ", ["quick slow house tree"])]  # empty context; trailing space
PROMPTS = ["Question: what is the apple?\nAnswer:", "cat dog bird"]


async def run_vllm(model: str, out: Path) -> None:
    from gage_eval.backends.base import GenerationRequest
    from gage_eval.backends.vllm import VLLMBackend
    from gage_eval.backends.vllm_convert import SCORING_PARAMS, scoring_input

    backend = VLLMBackend.from_config({"model_path": model, "dtype": "float32", "max_model_len": 512,
                                       "max_num_seqs": 16, "enforce_eager": True})
    t = time.perf_counter()
    await backend.preflight()
    start_s = time.perf_counter() - t
    t = time.perf_counter()
    scores = [await backend.loglikelihood(ctx, conts) for ctx, conts in PAIRS]
    score_s = time.perf_counter() - t
    gens = [(await backend.generate(GenerationRequest(prompt=p, params={"max_tokens": 8}))).text for p in PROMPTS]
    # Raw engine output for the parser fixture: exactly what AsyncLLMEngine returns for prompt_logprobs=1.
    from vllm import SamplingParams

    fixture = []
    for ctx, conts in PAIRS[:2]:
        c, k = backend._encoder.encode_pair(ctx, conts[1])  # type: ignore[union-attr]
        inp, ctxlen = scoring_input(c, k, backend._max_length)
        raw = await backend._run(inp, SamplingParams(**SCORING_PARAMS))
        plp = [None if d is None else {str(tok): {"logprob": lp.logprob, "rank": lp.rank,
                                                   "decoded_token": lp.decoded_token} for tok, lp in d.items()}
               for d in raw.prompt_logprobs]
        fixture.append({"context": ctx, "continuation": conts[1], "tokens": inp, "ctxlen": ctxlen,
                        "prompt_logprobs": plp, "type": type(raw).__name__,
                        "entry_type": type(next(iter(raw.prompt_logprobs[1].values()))).__name__})
    await backend.aclose()
    import vllm

    out.write_text(json.dumps({"vllm": vllm.__version__, "start_s": start_s, "score_s": score_s,
                               "continuations": sum(len(c) for _, c in PAIRS), "scores": scores,
                               "generations": gens, "fixture": fixture}, indent=1))
    print(f"vllm {vllm.__version__}: engine start {start_s:.1f}s, {sum(len(c) for _, c in PAIRS)} continuations "
          f"scored in {score_s:.2f}s; generations {gens}")


async def compare_hf(model: str, path: Path) -> dict[str, Any]:
    from gage_eval.backends.base import GenerationRequest
    from gage_eval.backends.hf import HFBackend

    got = json.loads(path.read_text())
    backend = HFBackend.from_config({"model_path": model, "dtype": "float32", "device": "cpu"})
    hf = [await backend.loglikelihood(ctx, conts) for ctx, conts in PAIRS]
    gens = [(await backend.generate(GenerationRequest(prompt=p, params={"max_tokens": 8}))).text for p in PROMPTS]
    await backend.aclose()
    diffs = [abs(a[0] - b[0]) for va, vb in zip(got["scores"], hf) for a, b in zip(va, vb)]
    # vLLM's incremental detokenizer withholds an incomplete UTF-8 sequence at the end of a text; hf decodes
    # it as U+FFFD. Random weights over byte-level tokens end on half a character often: compare without it.
    gens = [g.rstrip("\ufffd") for g in gens]
    got["generations"] = [g.rstrip("\ufffd") for g in got["generations"]]
    greedy_same = all(a[1] == b[1] for va, vb in zip(got["scores"], hf) for a, b in zip(va, vb))
    result = {"max_abs_diff": max(diffs), "greedy_same": greedy_same, "generations_same": gens == got["generations"],
              "hf_scores": hf, "hf_generations": gens}
    print(f"vllm vs hf: max |loglikelihood diff| {max(diffs):.2e} over {len(diffs)} continuations; is_greedy "
          f"{'identical' if greedy_same else 'DIFFERENT'}; greedy generations "
          f"{'identical' if gens == got['generations'] else 'DIFFERENT: ' + repr((gens, got['generations']))}")
    return result


if __name__ == "__main__":
    if sys.argv[1] == "--compare-hf":
        asyncio.run(compare_hf(sys.argv[2], Path(sys.argv[3])))
    else:
        asyncio.run(run_vllm(sys.argv[1], Path(sys.argv[2])))

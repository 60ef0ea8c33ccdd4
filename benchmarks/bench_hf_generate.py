"""Local generation speed of the `hf` backend against a bare `model.generate` loop and lm-eval's HFLM.

The same 32 GSM8K prompts (GSM8K-format records written here, rendered by gage's gsm8k preprocessor with
few-shot examples: ~250-token prompts), greedy, 128 new tokens, the template's stop strings, on a random-weight
GPT-2-style model built here. Contenders, all in this one process on the same model files:
  bare      — `model.generate` one prompt at a time (no stop strings: its fastest form)
  gage b1/8 — a whole `gage eval` run (engine, samples.jsonl, metrics) with --eval-batch-size 1 / 8
  lm-eval   — HFLM.generate_until on the same prompts, same stop strings and max tokens, batch 1 / 8
A random model never emits a stop string or EOS, so every contender generates exactly 128 tokens (checked for
gage); gage's batch-1 answers are checked identical to the bare loop's before any figure is printed. Model
loading is excluded (gage: the measured load time is subtracted from the task's wall time). The machine is
shared: figures are samples/s within one round, rounds rotate the order, and ratios are reported per round
with their median and range.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.tiny_model import build_tiny_gpt2  # noqa: E402

MAX_NEW = 128
STOP = ["Question:", "</s>", "<|im_end|>"]  # the gsm8k template's (and lm-eval gsm8k.yaml's `until`)


def gsm8k_records(n: int, seed: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    names, things = ["Janet", "Tom", "Weng", "Betty", "James", "Mark"], ["apples", "eggs", "pages", "clips", "cups"]
    out = []
    for _ in range(n):
        a, b, c = rng.randint(2, 60), rng.randint(2, 30), rng.randint(2, 9)
        who, what = rng.choice(names), rng.choice(things)
        question = (f"{who} has {a} {what} and buys {b} more each day for {c} days. Then {who} gives away half "
                    f"of them. How many {what} does {who} have now?")
        total = a + b * c
        answer = (f"{who} buys {b} * {c} = <<{b}*{c}={b * c}>>{b * c} {what}.\nSo {who} has {a} + {b * c} = "
                  f"<<{a}+{b * c}={total}>>{total}.\nHalf is {total} / 2 = <<{total}/2={total / 2:g}>>{total / 2:g}."
                  f"\n#### {total / 2:g}")
        out.append({"question": question, "answer": answer})
    return out


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def finish(text: str) -> str:
    cuts = [text.find(s) for s in STOP if s in text]
    return text[:min(cuts)] if cuts else text


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--shots", type=int, default=1, help="few-shot examples per prompt (sets the prompt length)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads for every contender (0: torch's "
                    "default; on a shared 2-core machine 2 OpenMP threads mostly wait for each other)")
    args = ap.parse_args()

    import datasets
    import torch
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from gage_eval.api import run_task
    from gage_eval.backends.hf import HFSettings
    from gage_eval.backends.hf_runtime import HFRuntime
    from gage_eval.config.models import DatasetSpec
    from gage_eval.datasets import iter_samples

    datasets.disable_progress_bars()
    if args.threads:
        torch.set_num_threads(args.threads)
    tmp = Path(tempfile.mkdtemp(prefix="bench_hf_generate_"))
    model_dir = build_tiny_gpt2(tmp / "model", n_positions=1024, n_embd=args.hidden, n_layer=args.layers)
    test = write_jsonl(tmp / "test.jsonl", gsm8k_records(32, 1))
    train = write_jsonl(tmp / "train.jsonl", gsm8k_records(16, 2))
    kwargs = {"num_fewshot": args.shots, "fewshot_sampler": "lm_eval", "fewshot_seed": 1234, "fewshot_path": str(train)}
    prompts = [s.inputs["ll_context"] for s in iter_samples(DatasetSpec(
        dataset_id="gsm8k", loader="jsonl", params={"path": str(test), "preprocess": "gsm8k", "preprocess_kwargs": kwargs}))]
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    lengths = [len(tok(p).input_ids) for p in prompts]
    print(f"model: GPT-2 n_embd={args.hidden} n_layer={args.layers}, torch threads {torch.get_num_threads()}; "
          f"{len(prompts)} prompts, {min(lengths)}-{max(lengths)} tokens (mean {statistics.mean(lengths):.0f}); "
          f"{MAX_NEW} new tokens, greedy")

    def bare() -> list[str]:
        out = []
        for p in prompts:
            ids = tok(p, return_tensors="pt")
            with torch.no_grad():
                gen = model.generate(**ids, max_new_tokens=MAX_NEW, do_sample=False, pad_token_id=tok.pad_token_id)
            out.append(finish(tok.decode(gen[0, ids.input_ids.shape[1]:], skip_special_tokens=True)))
        return out

    def gage(batch: int, tag: str) -> tuple[list[str], float, float]:
        t0, c0 = time.perf_counter(), time.process_time()
        HFRuntime(HFSettings(model_path=str(model_dir), device="cpu"))  # the load a run pays, to subtract
        load_s, load_cpu = time.perf_counter() - t0, time.process_time() - c0
        c1 = time.process_time()
        result = run_task({"model": str(model_dir), "datasets": ["gsm8k"], "limit": len(prompts),
                           "eval_batch_size": batch, "work_dir": str(tmp / "runs"), "run_id": tag,
                           "generation_config": {"do_sample": False, "max_new_tokens": MAX_NEW},
                           "dataset_args": {"gsm8k": {"local_path": str(test), "few_shot_path": str(train),
                                                      "few_shot_num": args.shots}}}, progress="off")
        records = sorted((json.loads(x) for x in (result.run_dir / "samples.jsonl").read_text().splitlines()),
                         key=lambda r: r["seq"])
        assert all(r["model_output"]["usage"]["completion_tokens"] == MAX_NEW for r in records)
        assert [r["model_output"]["usage"]["prompt_tokens"] for r in records] == lengths
        cpu = time.process_time() - c1 - load_cpu
        return [r["model_output"]["answer"] for r in records], result.summary["tasks"][0]["wall_s"] - load_s, cpu

    lms = {bs: HFLM(pretrained=str(model_dir), device="cpu", batch_size=bs) for bs in (1, 8)}

    def lm_eval(batch: int) -> list[str]:
        reqs = [Instance("generate_until", {}, (p, {"until": STOP, "max_gen_toks": MAX_NEW, "do_sample": False}), i)
                for i, p in enumerate(prompts)]
        return lms[batch].generate_until(reqs, disable_tqdm=True)

    bare_all, prompts_all = bare, prompts
    prompts = prompts_all[:2]  # warm-up: first calls pay one-off costs (allocator, OpenMP pool, lazy imports)
    bare_all()
    lm_eval(1)
    prompts = prompts_all
    contenders = ["bare", "gage_b1", "gage_b8", "lm_eval_b1", "lm_eval_b8"]
    rounds: list[dict[str, float]] = []
    cpu_rounds: list[dict[str, float]] = []
    for r in range(args.rounds):
        rates: dict[str, float] = {}
        cpu_rates: dict[str, float] = {}  # samples per CPU-second of this process: robust to other users' load
        outputs: dict[str, list[str]] = {}
        order = contenders[r % len(contenders):] + contenders[:r % len(contenders)]
        for name in order:
            t0, c0 = time.perf_counter(), time.process_time()
            if name == "bare":
                outputs[name] = bare()
                seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
            elif name.startswith("gage"):
                outputs[name], seconds, cpu = gage(int(name[-1]), f"{name}_{r}")
            else:
                outputs[name] = lm_eval(int(name[-1]))
                seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
            rates[name], cpu_rates[name] = len(prompts) / seconds, len(prompts) / cpu
        assert outputs["gage_b1"] == outputs["bare"], "gage batch 1 answers differ from model.generate's"
        assert outputs["lm_eval_b1"] == outputs["bare"], "lm-eval batch 1 answers differ from model.generate's"
        rounds.append(rates)
        cpu_rounds.append(cpu_rates)
        print(f"round {r + 1}: " + "  ".join(f"{k} {v:.2f}/s" for k, v in rates.items())
              + "  | per CPU-s: " + "  ".join(f"{k} {v:.2f}" for k, v in cpu_rates.items()))

    ratios = {"gage b1 / bare": ("gage_b1", "bare"), "gage b8 / gage b1": ("gage_b8", "gage_b1"),
              "gage b1 / lm-eval b1": ("gage_b1", "lm_eval_b1"), "gage b8 / lm-eval b8": ("gage_b8", "lm_eval_b8")}
    print("samples/s, median over rounds: " + "  ".join(
        f"{k} {statistics.median(r[k] for r in rounds):.2f}" for k in contenders))
    for label, (a, b) in ratios.items():
        values = [r[a] / r[b] for r in rounds]
        cpu = [r[a] / r[b] for r in cpu_rounds]
        print(f"{label:>22}: wall median {statistics.median(values):.2f} (rounds: {', '.join(f'{v:.2f}' for v in values)})"
              f";  CPU median {statistics.median(cpu):.2f} (rounds: {', '.join(f'{v:.2f}' for v in cpu)})")


if __name__ == "__main__":
    main()

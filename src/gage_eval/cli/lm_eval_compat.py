"""lm-evaluation-harness spellings for `gage eval`, so that an lm-eval command line mostly works unchanged:

    gage eval --model hf --model_args pretrained=./ckpt,dtype=float32 --tasks arc_easy,gsm8k --num_fewshot 0 \\
        --batch_size 8 --limit 10 --output_path out --device cpu --log_samples

Each lm-eval option is translated into the quick-mode fields (EvalScope's names) before anything is compiled,
so there is one compilation path. Where lm-eval and quick mode name the same thing twice (`--tasks` and
`--datasets`), giving both is an error rather than a silent choice.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gage_eval.errors import ConfigError

# lm-eval's `--model` names the backend type; the checkpoint is `pretrained=` in --model_args.
HF_MODEL_TYPES = {"hf", "hf-auto", "huggingface"}
# lm-eval's API model types -> our openai_http `api`.
API_MODEL_TYPES = {"local-completions": "completions", "openai-completions": "completions",
                   "local-chat-completions": "chat", "openai-chat-completions": "chat"}
# lm-eval task names that differ from our benchmark names (the others are spelled the same).
TASK_ALIASES = {"ceval-valid": "ceval", "gpqa_diamond_zeroshot": "gpqa_diamond", "gpqa_diamond_n_shot": "gpqa_diamond",
                "hendrycks_math": "math", "alpaca_eval": "alpaca_eval2"}
# lm-eval hf model_args keys -> our hf backend settings (same meaning, other name).
HF_ARG_NAMES = {"tokenizer": "tokenizer_path"}
_DTYPE_ALIASES = {"half": "float16", "fp16": "float16", "bf16": "bfloat16", "float": "float32", "fp32": "float32"}


@dataclass
class LmEvalOptions:
    tasks: list[str]
    num_fewshot: int | None = None
    batch_size: str | None = None
    output_path: str | None = None
    device: str | None = None


def task_names(values: list[str]) -> list[str]:
    """`--tasks arc_easy,gsm8k` (lm-eval) or `--tasks arc_easy gsm8k` -> our benchmark names, in order."""
    names = [n.strip() for v in values for n in v.split(",") if n.strip()]
    return [TASK_ALIASES.get(n, n) for n in names]


def _batch_size(value: str) -> int | None:
    """lm-eval's --batch_size: a number, or `auto` / `auto:N` (we size batches ourselves: default)."""
    text = value.strip().lower()
    if text.startswith("auto"):
        return None
    if text.isdigit() and int(text) >= 1:
        return int(text)
    raise ConfigError(f"--batch_size {value!r} is not a positive whole number or auto", path="--batch_size",
                      fix="e.g. --batch_size 8 (the same as --eval-batch-size 8)")


def _model_fields(data: dict[str, Any], device: str | None) -> None:
    """`--model hf --model_args pretrained=PATH,...` -> model=PATH plus hf settings; API types -> a served model."""
    kind = data["model"]
    args = dict(data.get("model_args") or {})
    if kind in HF_MODEL_TYPES and "model_path" in args and "pretrained" not in args:
        pass  # gage's own spelling: the `hf` backend type with its model_path
    elif kind in HF_MODEL_TYPES:
        pretrained = args.pop("pretrained", None)
        if not pretrained:
            raise ConfigError(f"--model {kind} needs the checkpoint in --model_args pretrained=PATH",
                              path="--model_args", fix="e.g. --model hf --model_args pretrained=./ckpt "
                              "(or simply --model ./ckpt)")
        data["model"] = str(pretrained)
        data.setdefault("eval_type", "checkpoint")
        for old, new in HF_ARG_NAMES.items():
            if old in args:
                args[new] = args.pop(old)
        if isinstance(args.get("dtype"), str):
            args["dtype"] = _DTYPE_ALIASES.get(args["dtype"], args["dtype"])
    elif kind in API_MODEL_TYPES:
        name, url = args.pop("model", None), args.pop("base_url", None)
        if not name or not url:
            raise ConfigError(f"--model {kind} needs model=NAME,base_url=URL in --model_args", path="--model_args",
                              fix="e.g. --model_args model=qwen,base_url=http://127.0.0.1:8000/v1/completions")
        data.update(model=str(name), api_url=str(url))
        args.setdefault("api", API_MODEL_TYPES[kind])
        for unused in ("num_concurrent", "max_retries", "tokenized_requests", "tokenizer_backend"):
            args.pop(unused, None)  # lm-eval client knobs with no meaning for our HTTP backend
    if device:
        if data.get("api_url") or str(data["model"]).startswith(("http://", "https://")):
            raise ConfigError("--device applies to a local checkpoint (the hf backend)", path="--device",
                              fix="drop --device for served models")
        args["device"] = device
    if args or "model_args" in data:
        data["model_args"] = args


def apply_lm_eval(data: dict[str, Any], opts: LmEvalOptions) -> dict[str, Any]:
    """Quick-mode fields (`data`, as `gage eval` collected them) with lm-eval's options folded in."""
    if opts.tasks:
        if data.get("datasets"):
            raise ConfigError("both --datasets and --tasks are given", path="--tasks",
                              fix="use one of them (--tasks is lm-eval's name for --datasets)")
        data["datasets"] = task_names(opts.tasks)
    if not data.get("datasets"):
        raise ConfigError("no benchmark given", path="--datasets",
                          fix="pass --datasets gsm8k mmlu (or lm-eval's --tasks gsm8k,mmlu); `gage list benchmarks`")
    if opts.num_fewshot is not None:
        if opts.num_fewshot < 0:
            raise ConfigError(f"--num_fewshot must be >= 0, got {opts.num_fewshot}", path="--num_fewshot", fix="e.g. 5")
        args = dict(data.get("dataset_args") or {})
        for name in data["datasets"]:  # an explicit few_shot_num in --dataset-args wins for its benchmark
            args[name] = {"few_shot_num": opts.num_fewshot, **args.get(name, {})}
        data["dataset_args"] = args
    if opts.batch_size is not None:
        if data.get("eval_batch_size") is not None:
            raise ConfigError("both --eval-batch-size and --batch_size are given", path="--batch_size",
                              fix="use one of them (--batch_size is lm-eval's name)")
        data["eval_batch_size"] = _batch_size(opts.batch_size)
    if opts.output_path is not None:
        if data.get("work_dir") is not None:
            raise ConfigError("both --output-dir and --output_path are given", path="--output_path",
                              fix="use one of them (--output_path is lm-eval's name)")
        data["work_dir"] = opts.output_path
    _model_fields(data, opts.device)
    return data

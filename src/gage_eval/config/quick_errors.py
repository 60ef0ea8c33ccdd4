"""Errors of a quick-mode run, told in quick mode's words.

Quick mode compiles `--dataset-args` / `--dataset-dir` into a PipelineConfig, and the dataset layer reports
problems at that config's paths (`datasets[0].params.path`, `preprocess_kwargs.fewshot_path`). A `gage eval`
user never wrote those keys, so the error is re-addressed to the option they did write (`dataset_args.gsm8k.
local_path`) and its fix names quick-mode options (`few_shot_path`, `few_shot_num`, `--dataset-args`).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from gage_eval.errors import GageError

_DATASET_PATH = re.compile(r"^datasets\[(\d+)\]\.(.+)$")


def _benchmark(exc: GageError, pipeline: dict[str, Any]) -> tuple[str, str] | None:
    """(benchmark name, key inside its dataset spec) of an error at ``datasets[i].<key>``."""
    match = _DATASET_PATH.match(exc.path or "")
    datasets = pipeline.get("datasets") or []
    if not match or int(match.group(1)) >= len(datasets):
        return None
    return str(datasets[int(match.group(1))]["dataset_id"]), match.group(2)


def _args_example(name: str, **values: Any) -> str:
    return "--dataset-args '" + json.dumps({name: values}) + "'"


def quick_mode_error(exc: GageError, pipeline: dict[str, Any], dataset_args: dict[str, dict[str, Any]],
                     dataset_dir: str | None) -> GageError:
    """`exc` re-addressed to quick-mode options when it concerns one benchmark's data; unchanged otherwise."""
    found = _benchmark(exc, pipeline)
    if found is None:
        return exc
    name, key = found
    args = dataset_args.get(name) or {}
    local = args.get("local_path") or args.get("dataset_dir")
    # Where the local copy came from: the benchmark's own local_path, or the shared --dataset-dir.
    origin = f"dataset_args.{name}.local_path" if local else ("dataset_dir" if dataset_dir else None)
    text = f"{exc.message} {exc.fix or ''}"
    if "few-shot" in text or "fewshot" in text:
        exc.path = f"dataset_args.{name}"
        source = local or str(Path(dataset_dir or ".") / name)
        exc.fix = (f"give the few-shot examples their own file with few_shot_path, e.g. "
                   f"{_args_example(name, local_path=source, few_shot_path='train.jsonl')}, or point local_path at "
                   f"a folder holding both splits, or evaluate zero-shot with few_shot_num: 0 "
                   f"({_args_example(name, few_shot_num=0)}, or --num_fewshot 0)")
    elif key.startswith("params.path") and origin:
        exc.path = origin
        if "not found" in exc.message:
            option = f"--dataset-args ({name}.local_path)" if local else "--dataset-dir"
            exc.fix = f"check the path given in {option}; a relative path is read from the current directory"
    elif key.startswith("hub_params.hub_id"):
        exc.path = f"dataset_args.{name}"
        exc.fix = (f"{exc.fix}. With gage eval: --dataset-dir DIR (holding DIR/{name}) or "
                   f"{_args_example(name, local_path='DIR')}; HF_HUB_OFFLINE=1 skips the hub's retries")
    return exc

"""The `ifeval` preprocessor: a google/IFEval record (key, prompt, instruction_id_list, kwargs) → Sample.

The prompt becomes a single user message; ``metadata`` keeps ``key``, ``instruction_id_list`` and
``kwargs`` (None-valued entries dropped: the published dataset lists every kwarg of every instruction
type, unused ones as None). Every instruction is validated here, so a record the metric could not score
fails at load time with the file, record number and field (e.g. ``instruction_id_list[1]``).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gage_eval.benchmarks.ifeval.checkers import InstructionError, build_all
from gage_eval.datasets.preprocess import BasePreprocessor, RecordError
from gage_eval.registry import registry


def clean_kwargs(kwargs: Any) -> Any:
    """Drop None values of each per-instruction kwargs object (anything else is left for validation)."""
    if isinstance(kwargs, list):
        return [{k: v for k, v in kw.items() if v is not None} if isinstance(kw, Mapping) else kw
                for kw in kwargs]
    return kwargs


@registry.asset("dataset_preprocessors", "ifeval", desc="google/IFEval records (key, prompt, instruction_id_list, "
                "kwargs) -> one user message; instructions and kwargs validated into metadata",
                tags=("ifeval", "instruction_following"))
class IFEvalPreprocessor(BasePreprocessor):
    name = "ifeval"
    required_fields = ("prompt", "instruction_id_list", "kwargs")

    def to_sample(self, record: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        prompt = record["prompt"]
        if not isinstance(prompt, str):
            raise RecordError(f"'prompt' must be a string, not {type(prompt).__name__}", "prompt")
        instruction_ids = record["instruction_id_list"]
        instruction_kwargs = clean_kwargs(record["kwargs"])
        try:
            build_all(instruction_ids, instruction_kwargs)
        except InstructionError as exc:
            raise RecordError(str(exc), exc.field) from None
        key = record.get("key")
        return {
            "id": None if key is None else str(key),
            "prompt": prompt,
            "metadata": {"key": key, "instruction_id_list": list(instruction_ids), "kwargs": instruction_kwargs},
        }

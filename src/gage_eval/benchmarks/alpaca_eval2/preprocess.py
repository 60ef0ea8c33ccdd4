"""The official AlpacaEval format: records {instruction, output, generator, dataset}, where `output` is the
reference (baseline) model's answer — e.g. tatsu-lab/alpaca_eval's alpaca_eval_gpt4_baseline.json, or a
local JSON/JSONL file of the same shape."""
from __future__ import annotations

from typing import Any

from gage_eval.datasets.preprocess import BasePreprocessor, RecordError
from gage_eval.registry import registry


@registry.asset("dataset_preprocessors", "alpaca_eval", desc="AlpacaEval records: instruction -> user message; the "
                "reference output and generator -> metadata (the judge's baseline)", tags=("judge", "alpaca_eval"))
class AlpacaEvalPreprocessor(BasePreprocessor):
    required_fields = ("instruction",)

    def to_sample(self, record: dict[str, Any], **_: Any) -> dict[str, Any]:
        instruction = record.get("instruction")
        if not isinstance(instruction, str) or not instruction.strip():
            raise RecordError("missing field 'instruction' (the prompt the model answers)", "instruction")
        baseline = record.get("output")
        if baseline is not None and not isinstance(baseline, str):
            raise RecordError(f"'output' (the reference answer) must be text, not {type(baseline).__name__}",
                              "output")
        return {"messages": [{"role": "user", "content": instruction}],
                "metadata": {"baseline_output": baseline, "baseline_generator": record.get("generator", "baseline"),
                             "dataset": record.get("dataset")}}

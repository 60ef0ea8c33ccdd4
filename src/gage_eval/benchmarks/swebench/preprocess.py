"""The `swebench` preprocessor: a SWE-bench (Lite / Verified / Pro) record → Sample.

The record is kept whole in `metadata.instance` (normalised: FAIL_TO_PASS / PASS_TO_PASS as lists) for the
context provider and the judge; the sample id is the instance id. The prompt is built by the
`swebench_repo` context provider (support step); until then the sample holds the issue text alone.
preprocess_kwargs: `instance_ids` (list) and `instance_regex` select instances, before `--limit` counts;
`predictions` (a SWE-bench predictions.jsonl made elsewhere) keeps the instances it has and puts each
`model_patch` in `metadata.model_patch`, for `gage swebench judge`.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gage_eval.benchmarks.swebench.records import InstanceFilter, normalise
from gage_eval.datasets.preprocess import BasePreprocessor, RecordError
from gage_eval.errors import ConfigError
from gage_eval.registry import registry


@registry.asset("dataset_preprocessors", "swebench", desc="SWE-bench records (instance_id, repo, base_commit, "
                "problem_statement, patch, test_patch, FAIL_TO_PASS, PASS_TO_PASS) -> one sample per instance",
                tags=("swebench", "code"))
class SWEBenchPreprocessor(BasePreprocessor):
    name = "swebench"

    def __init__(self, *args: Any, instance_ids: list[str] | None = None, instance_regex: str | None = None,
                 predictions: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.patches = load_predictions(Path(predictions)) if predictions else None
        if self.patches is not None:
            instance_ids = [i for i in self.patches if not instance_ids or i in instance_ids]
        try:
            self.selection = InstanceFilter(instance_ids, instance_regex)
        except RecordError as exc:
            raise ConfigError(str(exc), path="preprocess_kwargs.instance_regex", fix="give a Python regular "
                              "expression, e.g. '^django__'") from None

    def keep(self, record: dict[str, Any]) -> bool:
        return self.selection.keep(str(record.get("instance_id", "")))

    def to_sample(self, record: dict[str, Any], **_: Any) -> dict[str, Any]:
        inst = normalise(record)
        metadata_extra = {} if self.patches is None else {"model_patch": self.patches[inst["instance_id"]]}
        return {"id": inst["instance_id"], "messages": [{"role": "user", "content": inst["problem_statement"]}],
                "metadata": {"instance": inst, "repo": inst["repo"], "instance_id": inst["instance_id"],
                             **metadata_extra}}


def load_predictions(path: Path) -> dict[str, str]:
    """SWE-bench's predictions format: one JSON object per line with instance_id and model_patch (a list in one
    JSON file is accepted too)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the predictions file: {exc.strerror}", file=str(path),
                          path="predictions", fix="give the path of a predictions.jsonl") from None
    try:
        rows = json.loads(text) if text.lstrip().startswith("[") else [json.loads(x) for x in text.splitlines()
                                                                        if x.strip()]
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not JSON lines: line {exc.lineno}: {exc.msg}", file=str(path), path="predictions",
                          fix="one {\"instance_id\": ..., \"model_patch\": ...} object per line") from None
    out: dict[str, str] = {}
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict) or not isinstance(row.get("instance_id"), str):
            raise ConfigError(f"prediction {n} has no instance_id", file=str(path), path=f"predictions[{n - 1}]",
                              fix="each line needs instance_id, model_patch (and model_name_or_path)")
        out[row["instance_id"]] = row.get("model_patch") or ""
    if not out:
        raise ConfigError("the predictions file is empty", file=str(path), path="predictions",
                          fix="give a predictions.jsonl with at least one prediction")
    return out

"""`livebench` preprocessor: a LiveBench question (question_id, category, task, turns, ground_truth, release
dates, task fields) -> one Sample.

The question's single turn is the user message (behind its ``system_prompt`` when it has one), as
LiveBench's ``gen_api_answer`` sends it. ``metadata`` keeps what the scorers read: ids, category, task,
subtask, release dates, the ground truth and the task's own fields (IFEval instructions and kwargs; the
coding tests, the function name and the starter code). Multi-turn questions, which LiveBench does not
publish, are refused by name rather than sent without the answers of their earlier turns.
"""
from __future__ import annotations

from typing import Any

from gage_eval.benchmarks.livebench.loader import check_release
from gage_eval.datasets.preprocess import BasePreprocessor, RecordError
from gage_eval.registry import registry

_KEPT = ("subtask", "livebench_release_date", "livebench_removal_date", "ground_truth", "instruction_id_list",
         "kwargs", "public_test_cases", "private_test_cases", "partial_solution", "question_title")


def _coding_meta(original: Any) -> dict[str, Any] | None:
    """Only original_json.metadata (LeetCode's function name) is needed; the rest is large and dated."""
    if isinstance(original, dict):
        return {"metadata": original.get("metadata")}
    return None if original is None else {"raw": original}


@registry.asset("dataset_preprocessors", "livebench", desc="LiveBench questions (question_id, category, task, turns, "
                "ground_truth, release dates, task fields) -> one user message; scorer inputs in metadata",
                tags=("livebench",))
class LiveBenchPreprocessor(BasePreprocessor):
    name = "livebench"
    required_fields = ("question_id", "category", "task", "turns")

    def to_sample(self, record: dict[str, Any], release: Any = None, **_: Any) -> dict[str, Any]:
        try:
            return self._sample(record, release)
        except RecordError as exc:  # the record number counts across categories: name the question too
            raise RecordError(f"question {record.get('question_id')!r} ({record.get('category')}/"
                              f"{record.get('task')}): {exc}", exc.field) from None

    def _sample(self, record: dict[str, Any], release: Any) -> dict[str, Any]:
        turns = record["turns"]
        if isinstance(turns, str) or not isinstance(turns, (list, tuple)) or not turns:
            raise RecordError("'turns' must be a non-empty list of strings", "turns")
        if len(turns) != 1:
            raise RecordError(f"a multi-turn question ({len(turns)} turns) cannot be asked without the model's "
                              "earlier answers; LiveBench publishes single-turn questions only", "turns")
        if not isinstance(turns[0], str) or not turns[0].strip():
            raise RecordError("turns[0] must be the question text", "turns[0]")
        try:
            release_filter = check_release(release)
        except ValueError as exc:
            raise RecordError(str(exc), "release") from None
        metadata: dict[str, Any] = {"question_id": str(record["question_id"]), "category": str(record["category"]),
                                    "task": str(record["task"]), "release_filter": release_filter}
        metadata.update({k: record[k] for k in _KEPT if record.get(k) is not None})
        if record.get("original_json") is not None:
            metadata["original_json"] = _coding_meta(record["original_json"])
        fields: dict[str, Any] = {"id": str(record["question_id"]), "metadata": metadata}
        system = record.get("system_prompt")
        if system:
            fields["messages"] = [{"role": "system", "content": str(system)}, {"role": "user", "content": turns[0]}]
        else:
            fields["prompt"] = turns[0]
        return fields

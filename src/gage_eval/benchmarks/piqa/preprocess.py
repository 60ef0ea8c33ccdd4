"""baber/piqa records (the parquet copy of ybisk/piqa lm-eval 0.4.13 loads) as its piqa task defines them.

Schema: goal, sol1, sol2, label (class label 0 / 1; -1 in the unlabeled test split).
lm-eval: doc_to_text "Question: {{goal}}\\nAnswer:", doc_to_choice [sol1, sol2], doc_to_target label.
"""
from __future__ import annotations

from typing import Any

from gage_eval.benchmarks.mc_chat import LetteredChatPreprocessor
from gage_eval.datasets.preprocess import RecordError
from gage_eval.registry import registry


@registry.asset("dataset_preprocessors", "piqa", desc="baber/piqa (ybisk/piqa) records: 'Question: <goal>\\nAnswer:' "
                "with sol1 / sol2 as options, as lm-eval piqa", tags=("benchmark", "multiple_choice"))
class PiqaPreprocessor(LetteredChatPreprocessor):
    def doc_to_text(self, doc: dict[str, Any]) -> str:
        return f"Question: {self.text_field(doc, 'goal')}\nAnswer:"

    def doc_to_choice(self, doc: dict[str, Any]) -> list[str]:
        return [self.text_field(doc, "sol1"), self.text_field(doc, "sol2")]

    def doc_to_target(self, doc: dict[str, Any]) -> int:
        label = self.field(doc, "label")
        # The hub column is an int class label; a digit string (a csv/jsonl copy) means the same.
        gold = label if isinstance(label, int) and not isinstance(label, bool) else (
            int(label) if isinstance(label, str) and label.strip().isdigit() else None)
        if gold not in (0, 1):
            hint = " (the test split is unlabeled: use the validation split)" if label == -1 else ""
            raise RecordError(f"label {label!r} is not 0 (sol1) or 1 (sol2){hint}", "label")
        return gold

    def chat_stem(self, doc: dict[str, Any]) -> str:
        return f"Question: {self.text_field(doc, 'goal')}"

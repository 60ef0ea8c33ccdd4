"""Rowan/hellaswag records as lm-evaluation-harness 0.4.13 defines the hellaswag task.

Schema: ind, activity_label, ctx_a, ctx_b, ctx, endings [4 strings], source_id, split, split_type,
label (a string "0".."3"; empty in the unlabeled test split). lm-eval's ``process_docs`` builds the
query ``activity_label + ": " + ctx_a + " " + ctx_b.capitalize()`` and cleans it and every ending with
``preprocess`` (WikiHow artefacts: " [title]" becomes ". ", other [bracketed] tags are dropped, then one
pass turns double spaces into single ones). `clean` below is that function, character for character.
"""
from __future__ import annotations

import re
from typing import Any

from gage_eval.benchmarks.mc_chat import LetteredChatPreprocessor
from gage_eval.datasets.preprocess import RecordError
from gage_eval.registry import registry

_BRACKETED = re.compile("\\[.*?\\]")


def clean(text: str) -> str:
    """lm_eval/tasks/hellaswag/utils.py ``preprocess``."""
    text = text.strip()
    text = text.replace(" [title]", ". ")
    text = _BRACKETED.sub("", text)
    return text.replace("  ", " ")


@registry.asset("dataset_preprocessors", "hellaswag", desc="Rowan/hellaswag records: cleaned 'activity: context' "
                "continued by each cleaned ending, as lm-eval hellaswag", tags=("benchmark", "multiple_choice"))
class HellaSwagPreprocessor(LetteredChatPreprocessor):
    default_instruction = "Answer with the letter of the ending that most plausibly continues the text."

    def doc_to_text(self, doc: dict[str, Any]) -> str:
        ctx = self.text_field(doc, "ctx_a") + " " + self.text_field(doc, "ctx_b").capitalize()
        return clean(self.text_field(doc, "activity_label") + ": " + ctx)

    def doc_to_choice(self, doc: dict[str, Any]) -> list[str]:
        endings = self.field(doc, "endings")
        if not isinstance(endings, (list, tuple)) or not all(isinstance(e, str) for e in endings):
            raise RecordError("field 'endings' must be a list of strings", "endings")
        return [clean(e) for e in endings]

    def doc_to_target(self, doc: dict[str, Any]) -> int:
        label = self.field(doc, "label")
        text = str(label).strip()
        if isinstance(label, bool) or not text.isdigit():
            hint = " (the test split is unlabeled: use the validation split)" if text == "" else ""
            raise RecordError(f"label {label!r} is not an ending number{hint}", "label")
        gold = int(text)
        count = len(self.doc_to_choice(doc))
        if gold >= count:
            raise RecordError(f"label {label!r} does not name one of the {count} endings", "label")
        return gold

    def chat_stem(self, doc: dict[str, Any]) -> str:
        return f"How does this text most plausibly continue?\n{self.doc_to_text(doc)}"

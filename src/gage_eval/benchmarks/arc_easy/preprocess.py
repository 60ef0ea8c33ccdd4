"""allenai/ai2_arc records as lm-evaluation-harness 0.4.13 defines the arc_easy / arc_challenge tasks.

Schema (both subsets): id, question, choices {text: [...], label: [...]}, answerKey. Labels are letters
for most questions but "1".."4" for some, so the gold option is found by position of answerKey among
choices.label, exactly lm-eval's ``choices.label.index(answerKey)``.
"""
from __future__ import annotations

from typing import Any

from gage_eval.benchmarks.mc_chat import LetteredChatPreprocessor, list_field
from gage_eval.datasets.preprocess import RecordError
from gage_eval.registry import registry


@registry.asset("dataset_preprocessors", "arc", desc="allenai/ai2_arc (ARC-Easy / ARC-Challenge) records: "
                "'Question: ...\\nAnswer:' with the choice texts as options, as lm-eval arc_easy/arc_challenge",
                tags=("benchmark", "multiple_choice", "arc"))
class ArcPreprocessor(LetteredChatPreprocessor):
    def doc_to_text(self, doc: dict[str, Any]) -> str:
        return f"Question: {self.text_field(doc, 'question')}\nAnswer:"

    def doc_to_choice(self, doc: dict[str, Any]) -> list[str]:
        texts = list_field(self, doc, "choices", "text")
        if len(texts) != len(list_field(self, doc, "choices", "label")):
            raise RecordError(f"choices.text has {len(texts)} entries but choices.label has "
                              f"{len(doc['choices']['label'])}", "choices.label")
        return [str(t) for t in texts]

    def doc_to_target(self, doc: dict[str, Any]) -> int:
        labels = [str(label) for label in list_field(self, doc, "choices", "label")]
        key = self.field(doc, "answerKey")
        if str(key) not in labels:
            raise RecordError(f"answerKey {key!r} is not one of the choice labels {labels}", "answerKey")
        return labels.index(str(key))

    def chat_stem(self, doc: dict[str, Any]) -> str:
        return f"Question: {self.text_field(doc, 'question')}"

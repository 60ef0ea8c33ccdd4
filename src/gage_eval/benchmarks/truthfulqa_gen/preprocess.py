"""truthfulqa/truthful_qa `generation` subset (type, category, question, best_answer, correct_answers,
incorrect_answers, source). Completion style uses lm-eval's 6-shot QA primer ("Q: ...\\nA:"); chat style asks
the question alone. The judge sees the reference true and false answers."""
from __future__ import annotations

from typing import Any

from gage_eval.benchmarks.base import BenchmarkPreprocessor
from gage_eval.benchmarks.truthfulqa_mc1.preprocess import QA_PRIMER
from gage_eval.datasets.preprocess import RecordError
from gage_eval.registry import registry


def _answers(doc: dict[str, Any], name: str) -> list[str]:
    value = doc.get(name)
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise RecordError(f"missing field '{name}' (a list of answer strings)", name)
    return [a.strip() for a in value if a.strip()]


@registry.asset("dataset_preprocessors", "truthfulqa_gen", desc="TruthfulQA generation: question -> answer; true and "
                "false reference answers for the judge", tags=("truthfulqa", "judge"))
class TruthfulQAGenPreprocessor(BenchmarkPreprocessor):
    output_type = "generate_until"

    def doc_to_text(self, doc: dict[str, Any]) -> str:
        return f"Q: {str(self.field(doc, 'question')).strip()}\nA:"

    def description(self, doc: dict[str, Any]) -> str:
        return QA_PRIMER + "\n\n"

    def doc_to_target(self, doc: dict[str, Any]) -> str:
        return str(self.field(doc, "best_answer")).strip()

    def references(self, doc: dict[str, Any]) -> list[Any]:
        return _answers(doc, "correct_answers")

    def extra_metadata(self, doc: dict[str, Any]) -> dict[str, Any]:
        return {"question": str(self.field(doc, "question")).strip(), "category": doc.get("category"),
                "correct_answers": _answers(doc, "correct_answers"),
                "incorrect_answers": _answers(doc, "incorrect_answers")}

    def to_sample(self, record: dict[str, Any], style: str = "completion", **kwargs: Any) -> dict[str, Any]:
        fields = super().to_sample(record, style=style, **kwargs)
        if style == "chat":  # a chat model is asked the question itself, without the Q/A primer
            fields["messages"] = [m for m in fields["messages"] if m["role"] == "system"] + [
                {"role": "user", "content": fields["metadata"]["question"]}]
        return fields

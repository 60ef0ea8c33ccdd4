"""MATH problems → Samples asking for the final answer in ``\\boxed{}``.

Two published schemas:

- ``math500``: HuggingFaceH4/MATH-500 (problem, solution, answer, subject, level: int, unique_id); the
  reference is the ``answer`` field, the sample id the ``unique_id``;
- ``math``: the full MATH test set as EleutherAI/hendrycks_math serves it (7 subsets; problem, level:
  "Level N", type, solution); the reference is the last ``\\boxed{}`` of the solution, extracted as
  lm-evaluation-harness's hendrycks_math ``process_docs`` does (a solution without one is a record error).

Prompt (both styles, EvalScope's math_500 template): ``{problem}\\nPlease reason step by step, and put your
final answer within \\boxed{}.``. Optional few-shot examples (num_fewshot + fewshot_split: train, MATH
only) show the full reference solution after the prompt.
"""
from __future__ import annotations

from typing import Any, ClassVar

from gage_eval.benchmarks.base import BenchmarkPreprocessor
from gage_eval.benchmarks.math500.boxed import boxed_answer
from gage_eval.datasets.preprocess import RecordError
from gage_eval.registry import registry

INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."


class _BoxedMath(BenchmarkPreprocessor):
    output_type: ClassVar[str] = "generate_until"
    target_delimiter: ClassVar[str] = "\n"

    def doc_to_text(self, doc: dict[str, Any]) -> str:
        return f"{self.text_field(doc, 'problem')}\n{INSTRUCTION}"

    def fewshot_target(self, doc: dict[str, Any]) -> str:
        return self.text_field(doc, "solution")


@registry.asset("dataset_preprocessors", "math500", desc="HuggingFaceH4/MATH-500 records (problem, answer, "
                "subject, level, unique_id): problem + 'put your final answer within \\boxed{}'; reference = "
                "answer", tags=("benchmark", "math"))
class Math500Preprocessor(_BoxedMath):
    def doc_to_target(self, doc: dict[str, Any]) -> str:
        return self.text_field(doc, "answer")

    def extra_metadata(self, doc: dict[str, Any]) -> dict[str, Any]:
        return {"subject": doc.get("subject"), "level": doc.get("level"), "unique_id": doc.get("unique_id")}

    def to_sample(self, record: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        fields = super().to_sample(record, **kwargs)
        if record.get("unique_id") not in (None, ""):
            fields["id"] = str(record["unique_id"])
        return fields


@registry.asset("dataset_preprocessors", "math", desc="MATH records as EleutherAI/hendrycks_math serves them "
                "(problem, level, type, solution): problem + 'put your final answer within \\boxed{}'; "
                "reference = last \\boxed{} of the solution", tags=("benchmark", "math"))
class MathPreprocessor(_BoxedMath):
    def doc_to_target(self, doc: dict[str, Any]) -> str:
        answer = boxed_answer(self.text_field(doc, "solution"))
        if answer is None:
            raise RecordError("'solution' has no final \\boxed{...} answer to score against", "solution")
        return answer

    def extra_metadata(self, doc: dict[str, Any]) -> dict[str, Any]:
        return {"type": doc.get("type"), "level": doc.get("level")}

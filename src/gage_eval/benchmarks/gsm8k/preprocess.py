"""openai/gsm8k records (subset ``main``: question, answer) as lm-evaluation-harness 0.4.13's ``gsm8k`` task.

Completion style (the default, lm-eval's): ``Question: {question}\\nAnswer:``; few-shot examples are
``Question: ...\\nAnswer: <full reference solution>\\n\\n`` (target delimiter " ", fewshot delimiter
"\\n\\n"), drawn from the train split. The target is the whole ``answer`` field (worked solution ending
"#### N"); `regex_extract_match` removes everything up to "#### " from it before comparing.

Chat style (preprocess_kwargs ``style: chat``): every user turn is the bare question, few-shot assistant
turns are the reference solutions, and the last question is followed by an instruction asking for the
"#### N" line that lm-eval's strict-match filter reads (preprocess_kwargs ``instruction`` replaces it; ``""``
drops it).
"""
from __future__ import annotations

from typing import Any, ClassVar

from gage_eval.benchmarks.base import BenchmarkPreprocessor
from gage_eval.datasets.preprocess import RecordError
from gage_eval.registry import registry

CHAT_INSTRUCTION = ("Solve the problem step by step. Write the final answer as a number on the last line, "
                    "in the form \"#### <answer>\".")


@registry.asset("dataset_preprocessors", "gsm8k", desc="openai/gsm8k records (question, answer): "
                "'Question: ...\\nAnswer:' with full-solution few-shot examples, as lm-eval gsm8k; chat style "
                "asks for a '#### N' final line", tags=("benchmark", "math", "gsm8k"))
class GSM8KPreprocessor(BenchmarkPreprocessor):
    output_type: ClassVar[str] = "generate_until"
    default_instruction: ClassVar[str | None] = CHAT_INSTRUCTION

    def doc_to_text(self, doc: dict[str, Any]) -> str:
        question = self.text_field(doc, "question")
        if self.kwargs.get("style") == "chat":
            return question
        return f"Question: {question}\nAnswer:"

    def doc_to_target(self, doc: dict[str, Any]) -> str:
        return self.text_field(doc, "answer")

    def extra_metadata(self, doc: dict[str, Any]) -> dict[str, Any]:
        answer = self.text_field(doc, "answer")
        if "####" not in answer:
            raise RecordError("'answer' has no '#### <number>' final line (the GSM8K solution format)", "answer")
        return {"final_answer": answer.split("####")[-1].strip()}

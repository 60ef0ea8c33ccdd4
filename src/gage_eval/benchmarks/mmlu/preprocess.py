"""cais/mmlu records as lm-evaluation-harness 0.4.13 defines the ``mmlu`` tasks (mmlu/default).

Schema (config ``all`` and the 57 subject configs): question, subject, choices (4 strings), answer (0-3).
Prompt: ``{question.strip()}\\nA. {choices[0]}\\nB. ...\\nD. {choices[3]}\\nAnswer:``, after the description
``The following are multiple choice questions (with answers) about {subject with _ as space}.\\n\\n``.
"""
from __future__ import annotations

from typing import Any

from gage_eval.benchmarks.mmlu._mc_common import OPTION_LETTERS, SubjectMultipleChoice
from gage_eval.datasets.preprocess import RecordError
from gage_eval.registry import registry


@registry.asset("dataset_preprocessors", "mmlu", desc="cais/mmlu records (question, subject, choices, answer) as "
                "lm-eval mmlu: lettered options in the prompt, 'Answer:' scored on ' A'..' D'; subject description "
                "and first_n dev few-shot per subject", tags=("benchmark", "multiple_choice", "mmlu"))
class MMLUPreprocessor(SubjectMultipleChoice):
    def description(self, doc: dict[str, Any]) -> str:
        subject = self.subject(doc).replace("_", " ")
        return f"The following are multiple choice questions (with answers) about {subject}.\n\n"

    def doc_to_text(self, doc: dict[str, Any]) -> str:
        options = "".join(f"\n{letter}. {choice}" for letter, choice in zip(OPTION_LETTERS, self._choices(doc)))
        return f"{self.text_field(doc, 'question').strip()}{options}\nAnswer:"

    def doc_to_target(self, doc: dict[str, Any]) -> int:
        answer = self.field(doc, "answer")
        # The hub stores a ClassLabel index; the original CSV release a letter (lm-eval accepts both).
        if isinstance(answer, int) and not isinstance(answer, bool) and 0 <= answer < 4:
            return answer
        if answer in OPTION_LETTERS:
            return OPTION_LETTERS.index(answer)
        raise RecordError(f"field 'answer' is {answer!r}, not an option index 0-3 (or a letter A-D)", "answer")

    def _choices(self, doc: dict[str, Any]) -> list[str]:
        choices = self.field(doc, "choices")
        if not isinstance(choices, (list, tuple)) or len(choices) != 4 or any(c is None for c in choices):
            got = f"{len(choices)} entries" if isinstance(choices, (list, tuple)) else type(choices).__name__
            raise RecordError(f"field 'choices' must list 4 options (got {got})", "choices")
        return [str(c) for c in choices]

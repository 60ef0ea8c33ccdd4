"""What MMLU, CMMLU and C-Eval share: four lettered options inside the question, scored as the letters.

lm-eval 0.4.13 defines all three the same way: the question text lists ``A. ..`` to ``D. ..`` and ends with an
answer cue, ``doc_to_choice`` is ``["A", "B", "C", "D"]`` (so the continuations are ``" A"`` .. ``" D"``), the
description names the subject, and few-shot examples are the first N of the ``dev`` split of the same
subject (one lm-eval task per subject; dev is not the evaluated split, so a dev question equal to the test
question stays in the context: the templates declare ``fewshot_same_split: false``). Here one dataset holds every subject: the subject goes to
``metadata.subject`` (per-subject breakdowns) and is the few-shot group.
"""
from __future__ import annotations

from typing import Any, ClassVar

from gage_eval.benchmarks.base import BenchmarkPreprocessor
from gage_eval.datasets.preprocess import RecordError
from gage_eval.datasets.preprocessors import DEFAULT_INSTRUCTION

OPTION_LETTERS = ("A", "B", "C", "D")


class SubjectMultipleChoice(BenchmarkPreprocessor):
    """Subclasses define `doc_to_text`, `doc_to_target`, `description` (from `subject`).

    The subject is the record's ``subject`` field (MMLU has it; the ``hf_hub_subsets`` loader writes it into
    CMMLU / C-Eval records), else preprocess_kwargs ``subject`` (a local file of one subject)."""

    output_type: ClassVar[str] = "multiple_choice"
    default_instruction: ClassVar[str | None] = DEFAULT_INSTRUCTION

    def doc_to_choice(self, doc: dict[str, Any]) -> list[str]:
        return list(OPTION_LETTERS)

    def subject(self, doc: dict[str, Any]) -> str:
        subject = doc.get("subject") or self.kwargs.get("subject")
        if not isinstance(subject, str) or not subject:
            raise RecordError("missing field 'subject': records of one subject need preprocess_kwargs subject, or "
                              "load the hub dataset with loader hf_hub_subsets (it adds the field)", "subject")
        return subject

    def fewshot_group(self, doc: dict[str, Any]) -> Any:
        return self.subject(doc)

    def extra_metadata(self, doc: dict[str, Any]) -> dict[str, Any]:
        return {"subject": self.subject(doc)}

    def to_sample(self, record: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        try:
            return super().to_sample(record, **kwargs)
        except RecordError as exc:
            subject = record.get("subject") or self.kwargs.get("subject")
            if subject and f"subject '{subject}'" not in str(exc):  # one dataset holds many subjects: say which
                raise RecordError(f"{exc} (subject '{subject}')", exc.field) from None
            raise


def answer_letter_index(pre: BenchmarkPreprocessor, doc: dict[str, Any], name: str, hint: str = "") -> int:
    """``['A', 'B', 'C', 'D'].index(doc[name])`` as lm-eval's doc_to_target computes it (no case folding)."""
    value = pre.field(doc, name)
    if value not in OPTION_LETTERS:
        raise RecordError(f"field '{name}' is {value!r}, not one of A, B, C, D{hint}", name)
    return OPTION_LETTERS.index(value)


def chinese_subject_name(subject: str, names: dict[str, str], benchmark: str) -> str:
    if subject not in names:
        raise RecordError(f"unknown {benchmark} subject {subject!r} (known: {', '.join(names)})", "subject")
    return names[subject]


class ChineseExamMultipleChoice(SubjectMultipleChoice):
    """CMMLU and C-Eval: lettered options after the question, the cue ``答案：``, a Chinese subject description.
    Subclasses name their schema's fields and the description template (``{name}`` is the subject's name)."""

    default_instruction: ClassVar[str | None] = None  # the Chinese descriptions already ask for the letter
    benchmark: ClassVar[str] = ""
    subjects: ClassVar[dict[str, str]] = {}
    question_field: ClassVar[str] = "question"
    answer_field: ClassVar[str] = "answer"
    description_template: ClassVar[str] = ""

    def description(self, doc: dict[str, Any]) -> str:
        name = chinese_subject_name(self.subject(doc), self.subjects, self.benchmark)
        return self.description_template.format(name=name)

    def doc_to_text(self, doc: dict[str, Any]) -> str:
        options = "".join(f"\n{letter}. {self.field(doc, letter)}" for letter in OPTION_LETTERS)
        return f"{self.text_field(doc, self.question_field).strip()}{options}\n答案："

    def answer_hint(self, doc: dict[str, Any]) -> str:
        return ""

    def doc_to_target(self, doc: dict[str, Any]) -> int:
        return answer_letter_index(self, doc, self.answer_field, hint=self.answer_hint(doc))

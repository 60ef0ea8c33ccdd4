"""Idavidrein/gpqa (config gpqa_diamond, split train) as lm-evaluation-harness 0.4.13's ``gpqa_diamond_zeroshot``.

Schema (the hub CSV): Question, Correct Answer, Incorrect Answer 1..3, plus metadata columns (Record ID,
Subdomain, High-level domain, ...). lm-eval's ``utils.process_docs`` cleans the four answers, shuffles them
with Python's global ``random`` (one ``random.shuffle`` per record, in dataset order) and records the gold
letter. Its evaluator seeds that generator with ``random.seed(0)`` before building the task, so the order a
published number was scored with is that of a ``Random(0)`` stream consumed record by record. This
preprocessor replays exactly that stream: records must arrive in dataset order, from the first one (a
``--limit`` keeps a prefix, which is fine).

Prompt: ``What is the correct answer to this question:{Question}\\nChoices:\\n(A) ..\\n(B) ..\\n(C) ..\\n(D) ..
\\nAnswer:``; options ``(A)`` .. ``(D)`` scored as `` (A)`` .. `` (D)``.
"""
from __future__ import annotations

import random
from typing import Any, ClassVar

from gage_eval.benchmarks.base import BenchmarkPreprocessor
from gage_eval.datasets.preprocess import RecordError
from gage_eval.datasets.preprocessors import DEFAULT_INSTRUCTION
from gage_eval.errors import ConfigError
from gage_eval.registry import registry

CHOICES = ["(A)", "(B)", "(C)", "(D)"]
ANSWER_FIELDS = ("Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3", "Correct Answer")


def clean(text: str) -> str:
    """lm-eval gpqa utils.preprocess (its None -> " " branch is unreachable here: missing answers are errors)."""
    text = text.strip()
    text = text.replace(" [title]", ". ")
    return text.replace("  ", " ")


@registry.asset("dataset_preprocessors", "gpqa_diamond", desc="Idavidrein/gpqa records (Question, Correct Answer, "
                "Incorrect Answer 1-3) as lm-eval gpqa_*_zeroshot: answers shuffled by lm-eval's seeded stream, "
                "'(A)'..'(D)' scored after 'Answer:'", tags=("benchmark", "multiple_choice", "gpqa"))
class GPQAPreprocessor(BenchmarkPreprocessor):
    """preprocess_kwargs: shuffle_seed (default 0, lm-eval's default random_seed)."""

    output_type: ClassVar[str] = "multiple_choice"
    default_instruction: ClassVar[str | None] = DEFAULT_INSTRUCTION

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if int(self.kwargs.get("num_fewshot") or 0):
            raise ConfigError("gpqa_diamond is a 0-shot benchmark (lm-eval gpqa_diamond_zeroshot): its answer order "
                              "comes from one shuffle stream, which few-shot examples would disturb",
                              path="params.preprocess_kwargs.num_fewshot", fix="remove num_fewshot (or set it to 0)")
        self._rng = random.Random(int(self.kwargs.get("shuffle_seed", 0)))

    def shuffled(self, record: dict[str, Any]) -> dict[str, Any]:
        """lm-eval's ``_process_doc``: choice1..choice4 and answer "(X)"; advances the stream by one record."""
        choices = [clean(self.text_field(record, name)) for name in ANSWER_FIELDS]
        correct = choices[-1]
        self._rng.shuffle(choices)
        index = choices.index(correct)
        return {"choice1": choices[0], "choice2": choices[1], "choice3": choices[2], "choice4": choices[3],
                "answer": f"({chr(65 + index)})"}

    def doc_to_text(self, doc: dict[str, Any]) -> str:
        options = "".join(f"\n{label} {self.field(doc, f'choice{i + 1}')}" for i, label in enumerate(CHOICES))
        question = self.text_field(doc, "Question")
        return f"What is the correct answer to this question:{question}\nChoices:{options}\nAnswer:"

    def doc_to_choice(self, doc: dict[str, Any]) -> list[str]:
        return list(CHOICES)

    def doc_to_target(self, doc: dict[str, Any]) -> int:
        answer = self.field(doc, "answer")
        if answer not in CHOICES:
            raise RecordError(f"answer {answer!r} is not one of {CHOICES}", "answer")
        return CHOICES.index(answer)

    def to_sample(self, record: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        # The shuffle must run exactly once per record, before anything reads the options.
        doc = {**record, **self.shuffled(record)}
        fields = super().to_sample(doc, **kwargs)
        if record.get("Record ID"):
            fields["id"] = str(record["Record ID"])
        # The domain doubles as `subject`, the key per-subject breakdowns of the other MC benchmarks use.
        for key, names in (("High-level domain", ("domain", "subject")), ("Subdomain", ("subdomain",))):
            if record.get(key):
                fields["metadata"].update(dict.fromkeys(names, record[key]))
        return fields

"""MMMU records (MMMU/MMMU, one hub config per subject) -> Samples with the images interleaved in the text.

Schema: ``id`` (``validation_<Subject>_<n>``), ``question``, ``options`` (a Python list written as a string;
``[]`` for open questions), ``answer`` (a letter, or the open answer), ``question_type`` (``multiple-choice`` /
``open``), ``image_1`` … ``image_7`` (images, most None), ``subfield``, ``topic_difficulty``, ``img_type``.

Prompt (lmms-eval 0.7.3 ``mmmu_val``, its default ``format`` prompt): the question, then for multiple choice
the options as ``A. …`` lines and ``Answer with the option's letter from the given choices directly.``; for
open questions ``Answer the question using a single word or phrase.``. Each ``<image n>`` marker (in the
question or an option) becomes image n at that place (lmms-eval's interleaved ``mmmu_doc_to_messages``).
"""
from __future__ import annotations

import ast
from typing import Any

from gage_eval.benchmarks.mm_common import IMAGE_MARKER, image_part, interleave
from gage_eval.benchmarks.mmmu.scoring import DISCIPLINE_OF, choice_info, subject_of
from gage_eval.datasets.preprocess import BasePreprocessor, RecordError
from gage_eval.registry import registry

MC_PROMPT = "Answer with the option's letter from the given choices directly."
OPEN_PROMPT = "Answer the question using a single word or phrase."


def options_of(record: dict[str, Any]) -> list[str]:
    raw = record.get("options")
    if isinstance(raw, list):
        return [str(o) for o in raw]
    if raw in (None, ""):
        return []
    try:
        parsed = ast.literal_eval(str(raw))
    except (ValueError, SyntaxError):
        raise RecordError(f"field 'options' is not a list literal: {str(raw)[:80]!r}", "options") from None
    if not isinstance(parsed, list):
        raise RecordError("field 'options' must be a list", "options")
    return [str(o) for o in parsed]


def prompt_text(question: str, question_type: str, options: list[str], mc_prompt: str, open_prompt: str) -> str:
    """lmms-eval's construct_prompt."""
    if question_type == "multiple-choice":
        lines = "\n".join(f"{chr(ord('A') + i)}. {o}" for i, o in enumerate(options))
        return f"{question}\n{lines}\n\n{mc_prompt}"
    return f"{question}\n\n{open_prompt}"


@registry.asset("dataset_preprocessors", "mmmu", desc="MMMU records (question, options, image_1..7, answer, "
                "question_type): lmms-eval's prompt with the images interleaved at their <image n> markers",
                tags=("benchmark", "multimodal"))
class MMMUPreprocessor(BasePreprocessor):
    name = "mmmu"
    required_fields = ("id", "question", "question_type")

    def to_sample(self, record: dict[str, Any], mc_prompt: str = MC_PROMPT, open_prompt: str = OPEN_PROMPT,
                  style: str | None = None, **_: Any) -> dict[str, Any]:
        # `style` (quick mode's chat / completion) does not apply: images always travel as chat messages.
        qtype = str(record["question_type"])
        if qtype not in ("multiple-choice", "open"):
            raise RecordError(f"question_type must be multiple-choice or open, not {qtype!r}", "question_type")
        options = options_of(record)
        if qtype == "multiple-choice" and not options:
            raise RecordError("a multiple-choice question has no options", "options")
        text = prompt_text(str(record["question"]), qtype, options, mc_prompt, open_prompt)
        numbers = sorted({int(n) for n in IMAGE_MARKER.findall(text)})
        images = {n: image_part(record.get(f"image_{n}"), f"image_{n}") for n in numbers
                  if record.get(f"image_{n}") is not None}
        if not images:
            raise RecordError("the question names no image that the record holds (image_1 ... image_7)", "image_1")
        sample_id = str(record["id"])
        try:
            subject = subject_of(sample_id)
        except ValueError as exc:
            raise RecordError(str(exc), "id") from None
        index2ans, letters = choice_info(options)
        answer = record.get("answer")
        fields: dict[str, Any] = {
            "id": sample_id,
            "messages": [{"role": "user", "content": interleave(text, images)}],
            "label": answer if isinstance(answer, (str, list)) else str(answer),
            "metadata": {"subject": subject, "discipline": DISCIPLINE_OF.get(subject, "unknown"),
                         "question_type": qtype, "options": options, "all_choices": letters,
                         "subfield": record.get("subfield"), "topic_difficulty": record.get("topic_difficulty"),
                         "img_type": record.get("img_type")},
        }
        if qtype == "multiple-choice":
            fields["choices"] = [{"label": k, "text": v} for k, v in index2ans.items()]
        return fields

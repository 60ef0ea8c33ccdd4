"""DocVQA records (lmms-lab/DocVQA, config ``DocVQA``) -> Samples: the page image, then the question.

Schema: ``questionId``, ``question``, ``image`` (the page), ``answers`` (list of accepted answers; absent or
empty in the test split), ``question_types``, ``docId``, ``ucsf_document_id``, ``ucsf_document_page_no``.
Prompt (lmms-eval 0.7.3 ``docvqa_val``, default): ``{question}\\nAnswer the question using a single word or
phrase.`` after the image.
"""
from __future__ import annotations

from typing import Any

from gage_eval.benchmarks.mm_common import image_part
from gage_eval.datasets.preprocess import BasePreprocessor, RecordError
from gage_eval.registry import registry

POST_PROMPT = "\nAnswer the question using a single word or phrase."


def vqa_sample(record: dict[str, Any], question_field: str, answers: list[str], pre_prompt: str, post_prompt: str,
               image_field: str = "image") -> dict[str, Any]:
    """The sample shape DocVQA and ChartQA share: one user turn, the image then the question."""
    question = record.get(question_field)
    if not isinstance(question, str) or not question.strip():
        raise RecordError(f"field '{question_field}' must be a non-empty string", question_field)
    return {"messages": [{"role": "user", "content": [
        image_part(record.get(image_field), image_field),
        {"type": "text", "text": f"{pre_prompt}{question}{post_prompt}"}]}],
        "label": answers[0] if answers else None, "references": answers}


@registry.asset("dataset_preprocessors", "docvqa", desc="DocVQA records (questionId, question, image, answers): "
                "the page image then lmms-eval's docvqa_val prompt; references = all accepted answers",
                tags=("benchmark", "multimodal"))
class DocVQAPreprocessor(BasePreprocessor):
    name = "docvqa"
    required_fields = ("question",)

    def to_sample(self, record: dict[str, Any], pre_prompt: str = "", post_prompt: str = POST_PROMPT,
                  style: str | None = None, **_: Any) -> dict[str, Any]:
        answers = record.get("answers") or []
        if isinstance(answers, str):
            answers = [answers]
        fields = vqa_sample(record, "question", [str(a) for a in answers], pre_prompt, post_prompt)
        if record.get("questionId") not in (None, ""):
            fields["id"] = str(record["questionId"])
        fields["metadata"] = {k: record.get(k) for k in ("question_types", "docId", "ucsf_document_id",
                                                         "ucsf_document_page_no") if record.get(k) is not None}
        return fields

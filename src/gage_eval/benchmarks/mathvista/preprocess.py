"""MathVista records (AI4Math/MathVista, testmini: 1000 problems) -> Samples: the image, then the query.

Schema: ``pid``, ``question``, ``decoded_image`` (the image; ``image`` is its file name), ``choices`` (options, or
None), ``unit``, ``precision``, ``answer``, ``question_type`` (``multi_choice`` / ``free_form``), ``answer_type``
(``text`` / ``integer`` / ``float`` / ``list``), ``metadata`` (``task``, ``skills``, ``source``, ``category``,
``context``, ``grade``, ``language``, ...), ``query`` (the official hint + question, which the extraction prompt
quotes).

Prompt: lmms-eval 0.7.3's ``create_one_query`` 0-shot for ``shot_type`` (default ``format-prompt``, its
``mathvista_testmini_format`` task: ``Answer with the option's letter from the given choices directly.``, ``Answer
the question using a single integer number.``, ...); ``solution`` / ``step-by-step`` / ``reason-first`` / ``direct``
/ ``code`` give its other tasks' prompts; ``use_query: true`` sends the dataset's own ``query``.
"""
from __future__ import annotations

from typing import Any

from gage_eval.benchmarks.mathvista.official import create_query
from gage_eval.benchmarks.mm_common import image_part
from gage_eval.datasets.preprocess import BasePreprocessor, RecordError
from gage_eval.registry import registry

_META = ("task", "skills", "source", "category", "context", "grade", "language", "split")


@registry.asset("dataset_preprocessors", "mathvista", desc="MathVista records (pid, question, decoded_image, "
                "choices, answer, question_type, answer_type, metadata): the image then lmms-eval's 0-shot query "
                "(shot_type format-prompt by default)", tags=("benchmark", "multimodal"))
class MathVistaPreprocessor(BasePreprocessor):
    name = "mathvista"
    required_fields = ("question", "question_type", "answer_type")

    def to_sample(self, record: dict[str, Any], shot_type: str = "format-prompt", use_query: bool = False,
                  use_caption: bool = False, use_ocr: bool = False, style: str | None = None,
                  **_: Any) -> dict[str, Any]:
        choices = [str(c) for c in record.get("choices") or []]
        problem = {"question": str(record["question"]), "unit": record.get("unit") or "", "choices": choices,
                   "precision": record.get("precision"), "question_type": str(record["question_type"]),
                   "answer_type": str(record["answer_type"]), "caption": record.get("caption") or "",
                   "ocr": record.get("ocr") or ""}
        if problem["question_type"] == "multi_choice" and not choices:
            raise RecordError("a multi_choice problem has no choices", "choices")
        try:
            text = str(record["query"]) if use_query and record.get("query") else create_query(
                problem, shot_type, use_caption, use_ocr)
        except ValueError as exc:
            raise RecordError(str(exc), "shot_type") from None
        image_field = "decoded_image" if record.get("decoded_image") is not None else "image"
        meta = record.get("metadata") if isinstance(record.get("metadata"), dict) else {}
        answer = record.get("answer")
        fields: dict[str, Any] = {
            "messages": [{"role": "user", "content": [image_part(record.get(image_field), image_field),
                                                      {"type": "text", "text": text}]}],
            "label": None if answer is None else str(answer),
            "metadata": {"pid": record.get("pid"), "question_type": problem["question_type"],
                         "answer_type": problem["answer_type"], "precision": problem["precision"],
                         "choices": choices, "unit": problem["unit"],
                         "query": str(record.get("query") or text),
                         **{k: meta.get(k) for k in _META if meta.get(k) is not None}},
        }
        if record.get("pid") not in (None, ""):
            fields["id"] = str(record["pid"])
        return fields

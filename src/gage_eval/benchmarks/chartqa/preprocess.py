"""ChartQA records (lmms-lab/ChartQA, test) -> Samples: the chart image, then the question.

Schema: ``type`` (``human_test`` / ``augmented_test``), ``question``, ``answer``, ``image``. Prompt (lmms-eval
0.7.3 ``chartqa``, default): ``{question}\\nAnswer the question with a single word.`` after the image.
"""
from __future__ import annotations

from typing import Any

from gage_eval.benchmarks.docvqa.preprocess import vqa_sample
from gage_eval.datasets.preprocess import BasePreprocessor
from gage_eval.registry import registry

POST_PROMPT = "\nAnswer the question with a single word."


@registry.asset("dataset_preprocessors", "chartqa", desc="ChartQA records (type, question, answer, image): the "
                "chart then lmms-eval's chartqa prompt; metadata.type = human_test / augmented_test",
                tags=("benchmark", "multimodal"))
class ChartQAPreprocessor(BasePreprocessor):
    name = "chartqa"
    required_fields = ("question", "answer")

    def to_sample(self, record: dict[str, Any], pre_prompt: str = "", post_prompt: str = POST_PROMPT,
                  style: str | None = None, **_: Any) -> dict[str, Any]:
        fields = vqa_sample(record, "question", [str(record["answer"])], pre_prompt, post_prompt)
        fields["metadata"] = {"type": str(record.get("type") or "")}
        return fields

"""Built-in preprocessors: `default` (Sample-shaped or prompt/answer records) and `multi_choice`."""
from __future__ import annotations

from typing import Any

from gage_eval.datasets.preprocess import BasePreprocessor
from gage_eval.registry import registry

_SAMPLE_FIELDS = {"id", "messages", "choices", "inputs", "label", "references", "metadata"}
_PROMPT_KEYS = ("prompt", "question", "input", "instruction", "query", "text")
_LABEL_KEYS = ("label", "answer", "target", "output", "reference")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _first(record: dict[str, Any], keys: tuple[str, ...]) -> tuple[str | None, Any]:
    for key in keys:
        if record.get(key) not in (None, ""):
            return key, record[key]
    return None, None


@registry.asset("dataset_preprocessors", "default", desc="records in Sample shape, or prompt/question + "
                "label/answer fields; other fields go to metadata", tags=("text",))
class DefaultPreprocessor(BasePreprocessor):
    name = "default"

    def to_sample(self, record: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        fields = {k: v for k, v in record.items() if k in _SAMPLE_FIELDS}
        metadata = dict(fields.get("metadata") or {})
        prompt_key, prompt = (None, None) if record.get("messages") else _first(record, _PROMPT_KEYS)
        label_key, label = _first(record, _LABEL_KEYS) if "label" not in fields else ("label", fields["label"])
        for key, value in record.items():
            if key not in _SAMPLE_FIELDS and key not in (prompt_key, label_key):
                metadata[key] = value
        if prompt is not None:
            fields["prompt"] = prompt
        if label is not None:
            fields["label"] = label
        fields["metadata"] = metadata
        return fields


@registry.asset("dataset_preprocessors", "multi_choice", desc="question + choices (list or A/B/C/D fields) + answer "
                "(letter, index or text) -> lettered options and an answer-with-letter instruction",
                tags=("multiple_choice",))
class MultiChoicePreprocessor(BasePreprocessor):
    name = "multi_choice"
    required_fields = ("question",)

    def to_sample(self, record: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        choices = record.get("choices")
        if isinstance(choices, dict) and "text" in choices:  # ARC-style {"label": [...], "text": [...]}
            choices = list(choices["text"])
        if not choices:
            choices = [record[c] for c in LETTERS[:10] if c in record]
        if not choices:
            raise ValueError("no choices")
        answer = record.get("answer", record.get("label"))
        if isinstance(answer, int) and not isinstance(answer, bool):
            letter = LETTERS[answer]
        elif isinstance(answer, str) and len(answer.strip()) == 1 and answer.strip().upper() in LETTERS:
            letter = answer.strip().upper()
        elif isinstance(answer, str) and answer.strip().isdigit():
            letter = LETTERS[int(answer.strip())]
        else:
            letter = LETTERS[[str(c) for c in choices].index(str(answer))] if str(answer) in map(str, choices) \
                else None
        options = [{"label": LETTERS[i], "text": str(c)} for i, c in enumerate(choices)]
        body = "\n".join(f"{o['label']}. {o['text']}" for o in options)
        instruction = kwargs.get("instruction", "Answer with the letter of the correct option.")
        prompt = f"{record['question']}\n{body}\n{instruction}"
        meta = {k: v for k, v in record.items() if k not in ("question", "choices", "answer", "label", "id")
                and k not in LETTERS[:10]}
        return {"prompt": prompt, "choices": options, "label": letter, "metadata": {**meta,
                "question": record["question"]}}

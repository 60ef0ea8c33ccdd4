"""Built-in preprocessors: `default` (Sample-shaped or prompt/answer records) and `multi_choice`."""
from __future__ import annotations

import re
from typing import Any

from gage_eval.datasets import hooks as _hooks  # noqa: F401 - registers the built-in doc_converters
from gage_eval.datasets.preprocess import BasePreprocessor, RecordError, clean_messages
from gage_eval.registry import registry

_SAMPLE_FIELDS = frozenset({"id", "messages", "choices", "inputs", "label", "references", "metadata"})
_PROMPT_KEYS = ("prompt", "question", "input", "instruction", "query", "problem", "text")
_LABEL_KEYS = ("label", "answer", "target", "output", "reference", "solution")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DEFAULT_INSTRUCTION = "Answer with the letter of the correct option."


def _first(record: dict[str, Any], keys: tuple[str, ...]) -> tuple[str | None, Any]:
    for key in keys:
        value = record.get(key)
        if value is not None and value != "":
            return key, value
    return None, None


@registry.asset("dataset_preprocessors", "default", desc="records in Sample shape, or prompt/question/input + "
                "label/answer/target (+ choices); ShareGPT conversations; other fields go to metadata",
                tags=("text",))
class DefaultPreprocessor(BasePreprocessor):
    name = "default"

    def to_sample(self, record: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        fields = {k: v for k, v in record.items() if k in _SAMPLE_FIELDS}
        used: set[str] = set()
        if not fields.get("messages") and isinstance(record.get("conversations"), list):
            fields["messages"] = clean_messages(record["conversations"], "conversations")
            used.add("conversations")
        prompt_key = None
        if not fields.get("messages") and not (isinstance(fields.get("inputs"), dict) and fields["inputs"]):
            prompt_key, prompt = _first(record, _PROMPT_KEYS)
            if prompt_key is None and not any(h.name == "doc_to_text" for h in self.hooks):
                raise RecordError(f"no prompt: expected one of the fields {', '.join(_PROMPT_KEYS)}, or messages / "
                                  f"inputs (record has: {', '.join(sorted(record))[:200]})", "prompt")
            if prompt_key is not None:
                fields["prompt"] = prompt
                used.add(prompt_key)
        if "label" not in fields:
            label_key, label = _first(record, _LABEL_KEYS)
            if label_key is not None:
                fields["label"] = label
                used.add(label_key)
        metadata = fields.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise RecordError(f"'metadata' must be an object, not {type(metadata).__name__}", "metadata")
        metadata = dict(metadata) if metadata else {}
        for key, value in record.items():
            if key not in _SAMPLE_FIELDS and key not in used:
                metadata[key] = value
        fields["metadata"] = metadata
        return fields


_LETTER_RE = re.compile(r"\(?([A-Za-z])[).:]?")


def answer_index(answer: Any, texts: list[str], labels: list[str] | None = None, index_base: int = 0) -> int:
    """The 0-based index of the correct choice. Strings are tried as: the dataset's own choice labels, a
    letter ("B", "(b)", "B."), a choice's exact text, then a number; ints are indexes (`index_base`)."""
    if isinstance(answer, bool):
        raise RecordError(f"answer {answer!r} is a boolean, not a letter or an index", "answer")
    index: int | None = None
    if isinstance(answer, int):
        index = answer - index_base
    elif isinstance(answer, float) and answer.is_integer():
        index = int(answer) - index_base
    elif isinstance(answer, str):
        text = answer.strip()
        letter = _LETTER_RE.fullmatch(text)
        if labels and text in labels:
            index = labels.index(text)
        elif letter and LETTERS.index(letter.group(1).upper()) < len(texts):
            index = LETTERS.index(letter.group(1).upper())
        elif text in texts:
            index = texts.index(text)
        elif text.lstrip("-").isdigit():
            index = int(text) - index_base
    if index is None:
        raise RecordError(f"answer {answer!r} is not a letter, an index or the text of one of the "
                          f"{len(texts)} choices", "answer")
    if not 0 <= index < len(texts):
        raise RecordError(f"answer {answer!r} is out of range for {len(texts)} choices", "answer")
    return index


@registry.asset("dataset_preprocessors", "multi_choice", desc="question + choices (list, ARC-style dict or A/B/C/D "
                "fields) + answer (letter, index or text) -> lettered options and an answer-with-letter instruction",
                tags=("multiple_choice",))
class MultiChoicePreprocessor(BasePreprocessor):
    """preprocess_kwargs: instruction, system_prompt, index_base (for numeric answers, default 0)."""

    name = "multi_choice"
    question_keys = ("question", "query", "prompt", "input")
    choice_keys = ("choices", "options")
    answer_keys = ("answer", "label", "answerKey", "target", "correct")

    def to_sample(self, record: dict[str, Any], instruction: str = DEFAULT_INSTRUCTION,
                  system_prompt: str | None = None, index_base: int = 0, **_: Any) -> dict[str, Any]:
        question_key, question = _first(record, self.question_keys)
        if question_key is None:
            raise RecordError(f"missing field 'question' (record has: {', '.join(sorted(record))[:200]})", "question")
        texts, labels, used = self._choices(record)
        answer_key, answer = _first(record, self.answer_keys)
        index = answer_index(answer, texts, labels, index_base) if answer_key is not None else None
        options = [{"label": LETTERS[i], "text": t} for i, t in enumerate(texts)]
        body = "\n".join(f"{o['label']}. {o['text']}" for o in options)
        prompt = f"{str(question).strip()}\n\n{body}\n\n{instruction}" if instruction else f"{question}\n\n{body}"
        messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
        messages.append({"role": "user", "content": prompt})
        skip = {question_key, answer_key, "id", "sample_id", "idx", *used}
        metadata = {k: v for k, v in record.items() if k not in skip}
        metadata["question"] = question
        if index is not None:
            metadata["answer_text"] = texts[index]
        return {"messages": messages, "inputs": {"prompt": prompt}, "choices": options,
                "label": LETTERS[index] if index is not None else None, "metadata": metadata}

    def _choices(self, record: dict[str, Any]) -> tuple[list[str], list[str] | None, list[str]]:
        key, choices = _first(record, self.choice_keys)
        labels = None
        if isinstance(choices, dict) and "text" in choices:  # ARC style {"label": [...], "text": [...]}
            labels = [str(x) for x in choices.get("label") or []] or None
            choices = list(choices["text"])
        used = [key] if key else []
        if not choices:
            letters = [c for c in LETTERS if c in record]
            # Only a leading run A, B, C... counts: a stray "A" field alone is not a choice list.
            run = [c for i, c in enumerate(letters) if c == LETTERS[i]]
            choices, used = [record[c] for c in run], run
        if not isinstance(choices, (list, tuple)) or len(choices) < 2:
            raise RecordError("missing field 'choices': expected a list of at least 2 options, or fields A, B, ...",
                              "choices")
        if len(choices) > len(LETTERS):
            raise RecordError(f"{len(choices)} choices: at most {len(LETTERS)} can be lettered", "choices")
        texts = [str(c.get("text", "")) if isinstance(c, dict) else str(c) for c in choices]
        return texts, labels, used

"""Chat style for log-likelihood multiple-choice benchmarks whose lm-eval prompt does not show the options.

ARC, PIQA and HellaSwag are scored by comparing the log-likelihood of each option after
"Question: ...\\nAnswer:"; the prompt never lists the options. A chat model that must *generate* its
answer needs to see them, and `mc_accuracy` reads the letter it names. So in ``style: chat`` every user
turn shows the benchmark's stem followed by lettered options (``A. ...``), few-shot assistant turns answer
with the gold letter, and the last turn ends with the instruction (preprocess_kwargs ``instruction``, else
the benchmark's ``default_instruction``). Completion style and the log-likelihood inputs are untouched, so
they stay identical to lm-eval.
"""
from __future__ import annotations

from typing import Any, ClassVar

from gage_eval.benchmarks.base import BenchmarkPreprocessor
from gage_eval.datasets.preprocess import RecordError
from gage_eval.datasets.preprocessors import LETTERS

DEFAULT_INSTRUCTION = "Answer with the letter of the correct option."


class LetteredChatPreprocessor(BenchmarkPreprocessor):
    default_instruction: ClassVar[str | None] = DEFAULT_INSTRUCTION

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._current: dict[str, Any] | None = None

    def chat_stem(self, doc: dict[str, Any]) -> str:
        """The question part of a chat turn (before the lettered options)."""
        raise NotImplementedError

    def chat_question(self, doc: dict[str, Any]) -> str:
        options = "\n".join(f"{LETTERS[i]}. {text}" for i, text in enumerate(self.doc_to_choice(doc)))
        return f"{self.chat_stem(doc)}\n{options}"

    def gold_letter(self, doc: dict[str, Any]) -> str:
        gold = self.doc_to_target(doc)
        return LETTERS[gold[0] if isinstance(gold, list) else gold]

    def to_sample(self, record: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        # `_messages` gets only the rendered question; it needs the record to list the options. Records are
        # transformed one at a time by the pipeline, so holding the current one here is safe.
        self._current = record
        try:
            return super().to_sample(record, **kwargs)
        finally:
            self._current = None

    def _messages(self, description: str, shots: list[dict[str, Any]], question: str, context: str, style: str,
                  system_prompt: str | None, instruction: str | None) -> list[dict[str, Any]]:
        if style != "chat" or self._current is None:
            return super()._messages(description, shots, question, context, style, system_prompt, instruction)
        messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt}] if system_prompt else []
        prefix = description
        for shot in shots:
            messages.append({"role": "user", "content": prefix + self.chat_question(shot)})
            messages.append({"role": "assistant", "content": self.gold_letter(shot)})
            prefix = ""
        final = prefix + self.chat_question(self._current) + (f"\n\n{instruction}" if instruction else "")
        messages.append({"role": "user", "content": final})
        return messages


def list_field(pre: BenchmarkPreprocessor, doc: dict[str, Any], parent: str, key: str) -> list[Any]:
    """``doc[parent][key]`` as a list (hub struct columns such as ARC's choices.text); errors name the path."""
    struct = pre.field(doc, parent)
    if not isinstance(struct, dict):
        raise RecordError(f"field '{parent}' must be an object with '{key}' (got {type(struct).__name__})", parent)
    value = struct.get(key)
    if not isinstance(value, (list, tuple)):
        got = "nothing" if value is None else type(value).__name__
        raise RecordError(f"field '{parent}.{key}' must be a list (got {got})", f"{parent}.{key}")
    return list(value)


"""Built-in prompt templates, referenced from configs by `prompts[].implementation`."""
from __future__ import annotations

from typing import Any

from gage_eval.prompts import PromptTemplate
from gage_eval.registry import registry

MULTI_CHOICE = (
    "{{ prompt }}\n{% for c in choices %}{{ c.label if c.label is defined else 'ABCDEFGHIJ'[loop.index0] }}. "
    "{{ c.text if c.text is defined else c }}\n{% endfor %}Answer with the letter of the correct option."
)

JUDGE_SCORE = (
    "You are a strict grader. Rate the response to the question on a scale of {{ min_score }} to {{ max_score }}.\n\n"
    "[Question]\n{{ prompt }}\n\n{% if label %}[Reference answer]\n{{ label }}\n\n{% endif %}"
    "[Response]\n{{ model_output.answer }}\n\n"
    "Reply with your reasoning, then a final line of the form `Rating: [[N]]`."
)


@registry.asset("prompts", "multi_choice", desc="question + lettered options + answer-with-letter instruction",
                tags=("multiple_choice",))
def multi_choice_prompt(prompt_id: str, **params: Any) -> PromptTemplate:
    return PromptTemplate(prompt_id, template=MULTI_CHOICE, params=params)


@registry.asset("prompts", "judge_score", desc="single-answer grading on a scale, `Rating: [[N]]` verdict",
                tags=("judge",))
def judge_score_prompt(prompt_id: str, **params: Any) -> PromptTemplate:
    return PromptTemplate(prompt_id, template=JUDGE_SCORE, params={"min_score": 1, "max_score": 10, **params})

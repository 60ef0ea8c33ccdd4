"""Built-in prompt templates, referenced from configs by `prompts[].implementation`."""
from __future__ import annotations

from typing import Any

from gage_eval.prompts import PromptTemplate
from gage_eval.registry import registry

MULTI_CHOICE = (
    "{{ prompt }}\n{% for c in choices %}{{ c.label if c.label is defined else 'ABCDEFGHIJ'[loop.index0] }}. "
    "{{ c.text if c.text is defined else c }}\n{% endfor %}Answer with the letter of the correct option."
)

# MT-Bench's single-answer grading prompts (FastChat judge_prompts "single-v1", and "single-math-v1" when a
# reference answer is given), with the scale as parameters.
JUDGE_SCORE = (
    "[Instruction]\nPlease act as an impartial judge and evaluate the quality of the response provided by an AI "
    "assistant to the user question displayed below. {% if label %}Your evaluation should consider correctness and "
    "helpfulness. You will be given a reference answer and the assistant's answer. Begin your evaluation by "
    "comparing the assistant's answer with the reference answer. Identify and correct any mistakes.{% else %}Your "
    "evaluation should consider factors such as the helpfulness, relevance, accuracy, depth, creativity, and level "
    "of detail of the response. Begin your evaluation by providing a short explanation.{% endif %} Be as objective "
    "as possible. After providing your explanation, you must rate the response on a scale of {{ min_score }} to "
    "{{ max_score }} by strictly following this format: \"[[rating]]\", for example: \"Rating: [[5]]\".\n\n"
    "[Question]\n{{ prompt }}\n\n{% if label %}[The Start of Reference Answer]\n{{ label }}\n"
    "[The End of Reference Answer]\n\n{% endif %}[The Start of Assistant's Answer]\n{{ model_output.answer }}\n"
    "[The End of Assistant's Answer]"
)


@registry.asset("prompts", "multi_choice", desc="question + lettered options + answer-with-letter instruction",
                tags=("multiple_choice",))
def multi_choice_prompt(prompt_id: str, **params: Any) -> PromptTemplate:
    return PromptTemplate(prompt_id, template=MULTI_CHOICE, params=params)


@registry.asset("prompts", "judge_score", desc="MT-Bench single-answer grading on a scale (with a reference answer "
                "when the sample has a label), `Rating: [[N]]` verdict",
                tags=("judge",))
def judge_score_prompt(prompt_id: str, **params: Any) -> PromptTemplate:
    return PromptTemplate(prompt_id, template=JUDGE_SCORE, params={"min_score": 1, "max_score": 10, **params})

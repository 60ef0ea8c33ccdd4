"""MathVista's official evaluation pieces (lupantech/MathVista, as lmms-eval 0.7.3's mathvista_evals.py runs
them), reimplemented: the query of each shot type, the rule steps of answer extraction, the LLM extraction
prompt, answer normalization and comparison. Checked sample by sample against lmms-eval
(tests/test_mm_scorers_lmms.py)."""
from __future__ import annotations

import re
from typing import Any

from gage_eval.benchmarks.docvqa.metric import levenshtein

# The official few-shot extraction prompt (MathVista's prompts/ext_ans.py demo_prompt), verbatim.
DEMO_PROMPT = """
Please read the following example. Then extract the answer from the model response and type it at the end of the prompt.

Hint: Please answer the question requiring an integer answer and provide the final value, e.g., 1, 2, 3, at the end.
Question: Which number is missing?

Model response: The number missing in the sequence is 14.

Extracted answer: 14

Hint: Please answer the question requiring a floating-point number with one decimal place and provide the final value, e.g., 1.2, 1.3, 1.4, at the end.
Question: What is the fraction of females facing the camera?

Model response: The fraction of females facing the camera is 0.6, which means that six out of ten females in the group are facing the camera.

Extracted answer: 0.6

Hint: Please answer the question requiring a floating-point number with two decimal places and provide the final value, e.g., 1.23, 1.34, 1.45, at the end.
Question: How much money does Luca need to buy a sour apple candy and a butterscotch candy? (Unit: $)

Model response: Luca needs $1.45 to buy a sour apple candy and a butterscotch candy.

Extracted answer: 1.45

Hint: Please answer the question requiring a Python list as an answer and provide the final list, e.g., [1, 2, 3], [1.2, 1.3, 1.4], at the end.
Question: Between which two years does the line  graph saw its maximum peak?

Model response: The line graph saw its maximum peak between 2007 and 2008.

Extracted answer: [2007, 2008]

Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end.
Question: What fraction of the shape is blue?\nChoices:\n(A) 3/11\n(B) 8/11\n(C) 6/11\n(D) 3/5

Model response: The correct answer is (B) 8/11.

Extracted answer: B
"""

SHOT_TYPES = ("format-prompt", "solution", "step-by-step", "reason-first", "direct", "code")

_STEP_HINTS = {
    "integer": "Hint: Please answer the question requiring an integer answer and provide the final value, e.g., 1, 2, 3, at the end.",
    "float1": "Hint: Please answer the question requiring a floating-point number with one decimal place and provide the final value, e.g., 1.2, 1.3, 1.4, at the end.",
    "float2": "Hint: Please answer the question requiring a floating-point number with two decimal places and provide the final value, e.g., 1.23, 1.34, 1.45, at the end.",
    "list": "Hint: Please answer the question requiring a Python list as an answer and provide the final list, e.g., [1, 2, 3], [1.2, 1.3, 1.4], at the end.",
    "choice": "Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end.",
}
_FORMAT_HINTS = {
    "integer": "Answer the question using a single integer number.",
    "float1": "Answer the question using a single floating-point number with one decimal place.",
    "float2": "Answer the question using a single floating-point number with two decimal places.",
    "list": "Answer the question using a Python list.",
    "choice": "Answer with the option's letter from the given choices directly.",
}
_REASON_HINTS = {
    "integer": "First perform reasoning, then finally answer the question requiring an integer answer and provide the final value, e.g., 1, 2, 3, at the end in the following format: Answer: xxx.",
    "float1": "First perform reasoning, then finally answer the question requiring a floating-point number with one decimal place and provide the final value, e.g., 1.2, 1.3, 1.4, at the end in the following format: Answer: xxx.",
    "float2": "First perform reasoning, then finally answer the question requiring a floating-point number with two decimal places and provide the final value, e.g., 1.23, 1.34, 1.45, at the end in the following format: Answer: xxx.",
    "list": "First perform reasoning, then finally answer the question requiring a Python list as an answer and provide the final list, e.g., [1, 2, 3], [1.2, 1.3, 1.4], at the end in the following format: Answer: xxx.",
    "choice": "First perform reasoning, then finally select the question from the choices in the following format: Answer: xxx.",
}


def _hint_key(question_type: str, answer_type: str, precision: Any) -> str | None:
    if question_type == "multi_choice":
        return "choice"
    if answer_type == "float":
        return {1: "float1", 2: "float2"}.get(int(precision or 0))
    return answer_type if answer_type in ("integer", "list") else None


def create_query(problem: dict[str, Any], shot_type: str = "format-prompt", use_caption: bool = False,
                 use_ocr: bool = False) -> str:
    """The 0-shot test query of `create_one_query` for a problem (question, unit, choices, precision,
    question_type, answer_type, caption, ocr)."""
    if shot_type not in SHOT_TYPES:
        raise ValueError(f"unknown shot_type {shot_type!r} (use {', '.join(SHOT_TYPES)})")
    key = _hint_key(problem["question_type"], problem["answer_type"], problem.get("precision"))
    table = {"solution": _STEP_HINTS, "step-by-step": _STEP_HINTS, "format-prompt": _FORMAT_HINTS,
             "reason-first": _REASON_HINTS}.get(shot_type)
    if shot_type == "direct":
        hint = ""
    elif shot_type == "code":
        hint = "Hint: Please generate a python code to solve the problem"
    else:
        # The reference leaves the hint unset for a float of another precision (a NameError there); "" here.
        hint = table.get(key, "") if table and key else ""
    question = problem["question"] if shot_type == "format-prompt" else f"Question: {problem['question']}"
    if problem.get("unit"):
        question += f" (Unit: {problem['unit']})"
    choices = problem.get("choices") or []
    if not choices:
        choices_text = ""
    elif shot_type == "format-prompt":
        choices_text = "\n".join(f"{chr(ord('A') + i)}. {c}" for i, c in enumerate(choices))
    else:
        choices_text = "\n".join(["Choices:"] + [f"({chr(ord('A') + i)}) {c}" for i, c in enumerate(choices)])
    caption = f"Image description: {problem['caption']}" if use_caption and problem.get("caption") else ""
    ocr = f"Image detected text: {problem['ocr']}" if use_ocr and problem.get("ocr") else ""
    prompt = {"solution": "Solution: ", "code": "Python code: "}.get(shot_type, "")
    if shot_type == "reason-first":
        elements = [hint, question, choices_text, caption, ocr, prompt]
    else:
        elements = [question, choices_text, caption, ocr, hint, prompt]
    return ("\n\n" + "\n".join(e for e in elements if e != "")).strip()


def direct_extraction(response: str, problem: dict[str, Any], quick_extract: bool = False) -> str | None:
    """The rule steps of `extract_answer` that settle an answer without a model; None: the official code asks
    the extraction model next."""
    if not response:
        return ""
    if problem["question_type"] == "multi_choice" and response in (problem.get("choices") or []):
        return response
    if problem["answer_type"] == "integer":
        try:
            return str(int(response))
        except ValueError:
            pass
    if problem["answer_type"] == "float":
        try:
            return str(float(response))
        except ValueError:
            pass
    if quick_extract:
        match = re.search(r'The answer is "(.*)"\.', response)
        if match:
            return match.group(1)
    return None


def extraction_prompt(query: str, response: str) -> str:
    """What the official code sends the extraction model (create_test_prompt)."""
    return f"{DEMO_PROMPT.strip()}\n\n{query}\n\n{response}\n\nExtracted answer: "


def normalize_extracted(extraction: Any, choices: list[str] | None, question_type: str, answer_type: str,
                        precision: Any) -> Any:
    """`normalize_extracted_answer`: a letter or option text -> the option text (the closest option by edit
    distance otherwise); numbers -> their canonical string (None when they do not parse); lists as text."""
    if question_type == "multi_choice":
        extraction = extraction.strip() if isinstance(extraction, str) else str(extraction)
        letter = re.findall(r"\(([a-zA-Z])\)", extraction)
        if letter:
            extraction = letter[0].upper()
        choices = list(choices or [])
        options = [chr(ord("A") + i) for i in range(len(choices))]
        if extraction in options:
            return choices[options.index(extraction)]
        distances = [levenshtein(extraction, c) for c in choices]
        return choices[distances.index(min(distances))]
    if answer_type == "integer":
        try:
            return str(int(float(extraction)))
        except (TypeError, ValueError, OverflowError):
            return None
    if answer_type == "float":
        try:
            return str(round(float(extraction), int(precision or 0)))
        except (TypeError, ValueError, OverflowError):
            return None
    if answer_type == "list":
        return str(extraction)
    return extraction


def safe_equal(prediction: Any, answer: Any) -> bool:
    return str(prediction).strip() == str(answer).strip()

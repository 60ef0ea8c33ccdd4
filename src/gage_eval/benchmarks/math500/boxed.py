"""The last ``\\boxed{...}`` of a MATH solution: Hendrycks et al.'s helpers as lm-evaluation-harness ships them
(``last_boxed_only_string`` / ``remove_boxed`` in lm_eval/tasks/hendrycks_math/utils.py), returning None
where those assert."""
from __future__ import annotations


def last_boxed_only_string(text: str) -> str | None:
    """The last ``\\boxed{...}`` (braces balanced) or ``\\fbox{...}``; ``\\boxed x`` up to the next ``$``."""
    idx = text.rfind("\\boxed")
    if "\\boxed " in text:
        return "\\boxed " + text.split("\\boxed ")[-1].split("$")[0]
    if idx < 0:
        idx = text.rfind("\\fbox")
        if idx < 0:
            return None
    depth = 0
    for i in range(idx, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[idx:i + 1]
    return None


def remove_boxed(boxed: str | None) -> str | None:
    """``\\boxed{x}`` → ``x``, ``\\boxed x`` → ``x``; anything else (e.g. an ``\\fbox``) → None."""
    if boxed is None:
        return None
    if "\\boxed " in boxed:
        return boxed[len("\\boxed "):] if boxed.startswith("\\boxed ") else None
    if boxed.startswith("\\boxed{") and boxed.endswith("}"):
        return boxed[len("\\boxed{"):-1]
    return None


def boxed_answer(solution: str) -> str | None:
    """The final answer of a MATH solution, as lm-eval's hendrycks_math ``process_docs`` computes it."""
    return remove_boxed(last_boxed_only_string(solution))

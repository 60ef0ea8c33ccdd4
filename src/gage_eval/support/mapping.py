"""What a support_config makes of one raw record: question, options, gold answer and prompt.

This is the reference the generated test holds the benchmark's preprocessor to (template-rendered or written by
a model): both must give the same label, options and prompt for the five real records.
"""
from __future__ import annotations

import re
from typing import Any

from gage_eval.support.fields import get_path

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LETTER = re.compile(r"^\(?([A-Za-z])\)?\.?$")


def last_boxed(text: str) -> str | None:
    """The content of the last ``\\boxed{...}`` (braces balanced), as MATH's answer convention."""
    start = text.rfind("\\boxed")
    if start < 0:
        return None
    i = text.find("{", start)
    if i < 0:
        return None
    depth, j = 0, i
    while j < len(text):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1:j]
        j += 1
    return None


def _text(record: dict[str, Any], path: str | None, what: str, required: bool = True) -> str:
    value = get_path(record, path, None) if path else None
    if value is None:
        if required:
            raise ValueError(f"{what} field '{path}' is missing")
        return ""
    if isinstance(value, (dict, list)):
        raise ValueError(f"{what} field '{path}' is a {type(value).__name__}, not text")
    return str(value)


def options(cfg: Any, record: dict[str, Any]) -> list[str]:
    spec = cfg.fields.choices
    if isinstance(spec, list):
        values = [get_path(record, p, None) for p in spec]
        values = [v for v in values if v is not None]
    else:
        values = get_path(record, spec, None)
    if not isinstance(values, list) or len(values) < 2:
        raise ValueError(f"choices field {spec!r} does not hold a list of at least two options")
    return [str(v) for v in values]


def gold_index(cfg: Any, record: dict[str, Any], opts: list[str]) -> int:
    answer = get_path(record, cfg.fields.answer, None)
    fmt = cfg.answer_format
    if answer is None:
        raise ValueError(f"answer field '{cfg.fields.answer}' is missing")
    if fmt in ("index", "index1"):
        if isinstance(answer, bool) or not isinstance(answer, int) and not str(answer).strip().isdigit():
            raise ValueError(f"answer {answer!r} is not an option number")
        index = int(answer) - (1 if fmt == "index1" else 0)
    elif fmt == "letter":
        match = _LETTER.match(str(answer).strip())
        if not match:
            raise ValueError(f"answer {answer!r} is not an option letter")
        index = LETTERS.index(match.group(1).upper())
    elif fmt == "choice_label":
        labels = [str(x) for x in get_path(record, cfg.fields.choice_labels, None) or []]
        if str(answer) not in labels:
            raise ValueError(f"answer {answer!r} is not one of the option labels {labels}")
        index = labels.index(str(answer))
    else:  # choice_text
        stripped = [o.strip() for o in opts]
        if str(answer).strip() not in stripped:
            raise ValueError(f"answer {str(answer)[:60]!r} is not the text of any option")
        index = stripped.index(str(answer).strip())
    if not 0 <= index < len(opts):
        raise ValueError(f"answer {answer!r} names option {index} of {len(opts)}")
    return index


def target(cfg: Any, record: dict[str, Any]) -> list[str]:
    """The reference answers of a generated-answer task (first: the label)."""
    fmt = cfg.answer_format
    if cfg.task_type in ("open_ended", "code"):  # a reference is optional: a judge or the tests decide
        path = cfg.fields.reference or cfg.fields.answer
        return [_text(record, path, "reference", required=False) if path else ""]
    if not cfg.fields.answer:
        raise ValueError(f"{cfg.task_type} needs fields.answer")
    raw = get_path(record, cfg.fields.answer, None)
    if raw is None:
        raise ValueError(f"answer field '{cfg.fields.answer}' is missing")
    if fmt == "aliases":
        if not isinstance(raw, list) or not raw:
            raise ValueError(f"answer field '{cfg.fields.answer}' must list the accepted answers")
        return [str(x).strip() for x in raw]
    text = str(raw)
    if fmt == "gsm8k":
        if "####" not in text:
            raise ValueError(f"answer {text[:60]!r} has no '#### <answer>' final line")
        return [text.split("####")[-1].strip()]
    if fmt == "boxed":
        boxed = last_boxed(text)
        if boxed is None:
            raise ValueError(f"answer {text[:60]!r} has no \\boxed{{...}}")
        return [boxed.strip()]
    return [text.strip()]


def expected_sample(cfg: Any, record: dict[str, Any]) -> dict[str, Any]:
    """question, options, gold, label, references, prompt (completion style) of one record."""
    question = _text(record, cfg.fields.question, "question")
    context = _text(record, cfg.fields.context, "context", required=False) if cfg.fields.context else ""
    out: dict[str, Any] = {"question": question}
    opts: list[str] = []
    if cfg.task_type == "multiple_choice":
        opts = options(cfg, record)
        gold = gold_index(cfg, record, opts)
        out.update(options=opts, gold=gold, label=LETTERS[gold] if gold < 26 else str(gold))
    else:
        refs = target(cfg, record)
        out.update(label=refs[0], references=[r for r in refs if r] if cfg.task_type in ("open_ended", "code")
                   else refs)
    lettered = "\n".join(f"{LETTERS[i]}. {o}" for i, o in enumerate(opts))
    out["prompt"] = cfg.prompt.template.format(question=question, options=lettered, context=context)
    if cfg.fields.id:
        out["id"] = str(get_path(record, cfg.fields.id, ""))
    if cfg.fields.group:
        out["group"] = get_path(record, cfg.fields.group, None)
    return out

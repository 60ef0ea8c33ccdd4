"""Schema inference over a sample of raw records: field statistics, roles, modalities and the likely task.

Everything here is a guess from field names and values; `design` marks which guesses a person must confirm.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Any

from gage_eval.support.fields import flatten_paths, get_path, json_type

TASK_TYPES = ("multiple_choice", "math", "short_answer", "code", "open_ended")
_MEDIA_EXT = {"image": (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp"), "audio": (".wav", ".mp3", ".flac", ".ogg"),
              "video": (".mp4", ".avi", ".mov", ".webm")}
_QUESTION_NAMES = ("question", "prompt", "problem", "instruction", "query", "input", "turns", "text", "content",
                   "goal", "ctx", "sentence", "stem")
_ANSWER_NAMES = ("answer", "label", "target", "gold", "correct", "answerkey", "answer_idx", "answer_index",
                 "solution", "expected_answer", "final_answer")
_REFERENCE_NAMES = ("reference", "references", "reference_answer", "ideal", "output", "response", "target")
_CHOICE_NAMES = ("choices", "options", "endings", "candidates", "choice", "option")
_NOT_CHOICES = ("turns", "test_list", "tags", "answers", "aliases", "correct_answers", "incorrect_answers",
                "messages", "conversations") + _REFERENCE_NAMES
_ID_NAMES = ("id", "idx", "qid", "uid", "question_id", "sample_id", "task_id", "problem_id", "unique_id")
_GROUP_NAMES = ("subject", "category", "topic", "domain", "type", "level", "source", "difficulty", "cluster")
_OPTION_SETS = (tuple("ABCDEFGHIJ"), tuple(f"option_{c}" for c in "abcdefghij"),
                tuple(f"option{c}" for c in "ABCDEFGHIJ"), tuple(f"op{c}" for c in "abcdefghij"),
                tuple(f"choice{i}" for i in range(1, 11)), tuple(f"ending{i}" for i in range(10)),
                tuple(f"sol{i}" for i in range(1, 11)))
_NUMBER = re.compile(r"^\s*-?\$?[\d,]*\.?\d+\s*%?\s*$")
_LETTER = re.compile(r"^\(?([A-Z])\)?$")


def _stats(values: list[Any], total: int) -> dict[str, Any]:
    types = Counter(json_type(v) for v in values)
    present = [v for v in values if v is not None]
    info: dict[str, Any] = {"types": dict(types), "present": len(values), "null": types.get("null", 0),
                            "missing": total - len(values)}
    strings = [v for v in present if isinstance(v, str)]
    if strings:
        lengths = [len(s) for s in strings]
        info["length"] = {"min": min(lengths), "max": max(lengths), "mean": round(sum(lengths) / len(lengths), 1)}
    lists = [v for v in present if isinstance(v, list)]
    if lists:
        sizes = [len(v) for v in lists]
        info["list_length"] = {"min": min(sizes), "max": max(sizes)}
        info["items"] = dict(Counter(json_type(x) for v in lists for x in v))
    scalars = [v for v in present if isinstance(v, (str, int, float, bool))]
    if scalars:
        distinct = Counter(str(v) for v in scalars)
        info["distinct"] = len(distinct)
        info["unique"] = len(distinct) == len(values) and len(values) > 1
        if len(distinct) <= 12:
            info["values"] = dict(distinct.most_common())
    example = next((v for v in present), None)
    info["example"] = _short(example)
    return info


def _short(value: Any, limit: int = 160) -> Any:
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + "…"
    if isinstance(value, list):
        return [_short(v, 60) for v in value[:6]] + (["…"] if len(value) > 6 else [])
    if isinstance(value, dict):
        return {k: _short(v, 60) for k, v in list(value.items())[:8]}
    return value


def _media_kind(values: list[Any]) -> str | None:
    for v in values:
        if isinstance(v, dict) and "_media" in v:
            kind = v["_media"]
            path = str(v.get("path") or "").lower()
            for name, exts in _MEDIA_EXT.items():
                if path.endswith(exts):
                    return name
            return {"file": "image", "bytes": "image"}.get(kind, kind)
        if isinstance(v, str):
            low = v.lower()
            if low.startswith("data:image"):
                return "image"
            if low.startswith("data:audio"):
                return "audio"
            for name, exts in _MEDIA_EXT.items():
                if low.endswith(exts) and len(v) < 400:
                    return name
    return None


def infer_schema(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The schema.json written by `gage support inspect`: fields, modalities, task type and field guesses."""
    total = len(records)
    columns: dict[str, list[Any]] = {}
    for record in records:
        for path, value in flatten_paths(record).items():
            columns.setdefault(path, []).append(value)
    fields = {path: _stats(values, total) for path, values in columns.items()}
    media = {}
    for path, values in columns.items():
        kind = _media_kind(values)
        if kind:
            media[path] = kind
            fields[path]["media"] = kind
    guesses = _guess(records, fields, media)
    modalities = ["text"] + sorted(set(media.values()))
    task, evidence = _task_type(fields, guesses)
    for role in ("question", "choices", "answer", "id", "group", "reference"):
        path = guesses.get(role)
        if isinstance(path, str) and path not in fields and path.endswith(".0"):
            path, role = path[:-2], f"{role} (first item)"
        if isinstance(path, str) and path in fields:
            fields[path].setdefault("roles", []).append(role)
    return {"records": total, "fields": fields, "modalities": modalities,
            "task_type": {"guess": task, "evidence": evidence}, "guesses": guesses}


def _name(path: str) -> str:
    return path.split(".")[-1].lower()


def _pick(fields: dict[str, Any], names: tuple[str, ...], accept: Any, top_only: bool = True) -> str | None:
    for wanted in names:
        for path, info in fields.items():
            if (top_only and "." in path) or _name(path) != wanted:
                continue
            if accept(path, info):
                return path
    return None


def _is_text(info: dict[str, Any]) -> bool:
    return info["types"].get("string", 0) >= max(1, info["present"] - info["null"])


def _guess(records: list[dict[str, Any]], fields: dict[str, Any], media: dict[str, str]) -> dict[str, Any]:
    g: dict[str, Any] = {"media": sorted(media)}
    g["id"] = _pick(fields, _ID_NAMES, lambda p, i: i.get("unique", False))
    choices, labels = _choices(records, fields)
    g["choices"] = choices
    g["choice_labels"] = labels
    g["question"] = _question(fields, exclude={g["id"]} | set(media))
    g["group"] = _pick(fields, _GROUP_NAMES, lambda p, i: _is_text(i) and not i.get("unique") and p != g["question"])
    answer = _pick(fields, _ANSWER_NAMES, lambda p, i: p not in (g["question"], choices) and i["present"] > 0)
    g["answer"] = answer
    g["answer_format"] = _answer_format(records, answer, choices, labels) if answer else None
    g["reference"] = None
    if answer and g["answer_format"] == "text" and fields[answer].get("length", {}).get("mean", 0) > 60:
        g["reference"], g["answer"] = answer, None  # a long answer is a reference for a judge, not a target
    if not g["answer"] and not choices:
        ref = _pick(fields, _REFERENCE_NAMES, lambda p, i: p != g["question"] and (
            _is_text(i) or i.get("items", {}).get("string", 0) > 0))
        if ref:  # a list holds one reference per turn (MT-Bench): the first goes with the first turn
            g["reference"] = f"{ref}.0" if "list" in fields[ref]["types"] else ref
    g["code"] = {k: _pick(fields, (k,), lambda p, i: True) for k in ("entry_point", "test", "test_list")}
    return g


def _question(fields: dict[str, Any], exclude: set[Any]) -> str | None:
    for wanted in _QUESTION_NAMES:
        for path, info in fields.items():
            if path in exclude or _name(path) != wanted:
                continue
            if _is_text(info) and "." not in path:
                return path
            if info.get("items", {}).get("string") and info.get("list_length", {}).get("min", 0) >= 1:
                return f"{path}.0"  # e.g. MT-Bench's turns: the first turn is the question
            if f"{path}.0.content" in fields:
                return f"{path}.0.content"
    texts = [(i["length"]["mean"], p) for p, i in fields.items()
             if "." not in p and p not in exclude and _is_text(i) and "length" in i]
    return max(texts)[1] if texts else None


def _choices(records: list[dict[str, Any]], fields: dict[str, Any]) -> tuple[Any, str | None]:
    """A list-of-options field (``choices``), a struct with parallel text/label lists (ARC), or sibling option
    columns (``A``..``D``, ``opa``..``opd``); and the path of the option labels where the answer names one."""
    def options_list(path: str, info: dict[str, Any]) -> bool:
        sizes, items = info.get("list_length"), info.get("items", {})
        scalar = sum(items.get(t, 0) for t in ("string", "integer", "number"))
        return bool(sizes) and 2 <= sizes["min"] and sizes["max"] <= 26 and scalar == sum(items.values())

    for named in (True, False):
        for path, info in fields.items():
            name = _name(path)
            if "." in path or name in _NOT_CHOICES or (named and name not in _CHOICE_NAMES):
                continue
            if options_list(path, info):
                return path, None
    for path in fields:
        if f"{path}.text" in fields and f"{path}.label" in fields and fields[f"{path}.text"].get("list_length"):
            return f"{path}.text", f"{path}.label"
    keys = {p for p in fields if "." not in p}
    for names in _OPTION_SETS:
        present = [n for n in names if n in keys]
        if len(present) >= 2 and present == list(names[:len(present)]):
            return present, None
    return None, None


def _answer_format(records: list[dict[str, Any]], answer: str, choices: Any, labels: str | None) -> str:
    values = [get_path(r, answer, None) for r in records]
    values = [v for v in values if v is not None]
    if choices:
        if labels:
            return "choice_label"
        n = max((len(c) if isinstance(c, list) else 0 for c in
                 (get_path(r, choices, []) if isinstance(choices, str) else choices for r in records)), default=0)
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return "index" if max(values, default=0) < max(n, 2) else "index1"
        if all(isinstance(v, str) and _LETTER.match(v.strip()) for v in values):
            return "letter"
        return "choice_text"
    strings = [str(v) for v in values]
    if strings and all("####" in s for s in strings):
        return "gsm8k"
    if strings and all("\\boxed" in s for s in strings):
        return "boxed"
    if strings and all(_NUMBER.match(s) for s in strings):
        return "number"
    if values and all(isinstance(v, list) for v in values):
        return "aliases"
    return "text"


def _task_type(fields: dict[str, Any], g: dict[str, Any]) -> tuple[str, list[str]]:
    code = g.get("code") or {}
    if code.get("entry_point") and code.get("test"):
        return "code", ["fields entry_point and test (HumanEval layout)"]
    if code.get("test_list"):
        return "code", ["field test_list (MBPP layout)"]
    if g.get("choices") and g.get("answer"):
        return "multiple_choice", [f"options in {g['choices']}", f"answer in {g['answer']} ({g['answer_format']})"]
    fmt = g.get("answer_format")
    if fmt in ("gsm8k", "boxed", "number"):
        return "math", [f"answers in {g['answer']} are {'worked solutions ending #### N' if fmt == 'gsm8k' else fmt}"]
    if g.get("answer"):
        return "short_answer", [f"short answers in {g['answer']} (mean "
                                f"{fields[g['answer']].get('length', {}).get('mean', '?')} characters)"]
    if g.get("reference"):
        return "open_ended", [f"long reference answers in {g['reference']}: a judge compares"]
    return "open_ended", ["no answer field: answers are judged"]

"""LiveBench data analysis: column type annotation (cta), table join mapping (tablejoin, F1 over column pairs,
partial credit) and consecutive events (Jaccard) — rule for rule as ``process_results/data_analysis/*``.
Table reformatting is in `tables`."""
from __future__ import annotations

import ast
import json
import re
from typing import Any

from gage_eval.benchmarks.livebench.text import ScoringError, Verdict, last_boxed_only_string, remove_boxed


def _clean(text: str) -> str:
    return re.sub(r"[^\w]", "", text.lower().strip())


def cta(truth: str, answer: str) -> Verdict:
    """The column type: the answer (or its last \\boxed{}) equals it, or ends with it, ignoring case and
    everything but letters, digits and underscores."""
    parsed = answer
    if "\\boxed{" in parsed:
        boxed = last_boxed_only_string(parsed)
        if boxed is None:
            raise ScoringError("a \\boxed{ that never closes")
        parsed = remove_boxed(boxed)
        parsed = parsed.replace("\\text{", "").replace("}", "").replace("\\", "")
    expected, given = _clean(truth), _clean(parsed)
    return Verdict(float(expected == given or expected == given[-len(expected):]), parsed.strip()[-80:])


def _join_mapping(text: str) -> dict[Any, Any]:
    """The answer's column mapping: a Python/JSON dict literal in <solution>, in the whole answer, in the last
    ```python / ```json / ``` block, or in the last \\boxed{}; {} when none parses."""
    found = re.findall(r"<solution>(.*?)</solution>", text, re.DOTALL)
    if found:
        return _join_mapping(found[-1].strip())
    try:
        mapping = ast.literal_eval(text)
    except Exception:  # noqa: BLE001 - anything literal_eval rejects moves on to the next place to look
        flat = text.replace("\n", "")
        matches = (re.findall("```python(.*?)```", flat, re.MULTILINE) or re.findall("```json(.*?)```", flat,
                   re.MULTILINE) or re.findall("```(.*?)```", flat, re.MULTILINE))
        if not matches and "\\boxed" in text:
            boxed = last_boxed_only_string(flat)
            if boxed:
                matches = [re.sub(r"\\text{[\'|\"](.*?)[\'|\"]}", r"'\1'", remove_boxed(boxed)).replace("\\", "")]
        candidate = (matches or [text])[-1].replace("null", "None")
        try:
            mapping = ast.literal_eval(candidate)
        except Exception:  # noqa: BLE001
            return {}
    if not isinstance(mapping, dict):
        return {}
    return {k: v for k, v in mapping.items() if v is not None}


def tablejoin(truth: str | dict[Any, Any], answer: str) -> Verdict:
    """F1 of the answered column pairs against the true ones (a wrong pair is a false positive and a false
    negative), rounded to 2 decimals."""
    expected = truth if isinstance(truth, dict) else ast.literal_eval(truth)
    given = _join_mapping(answer)
    if not given:
        return Verdict(0.0, None, "no column mapping found")
    tp = fp = fn = 0
    for key, value in given.items():
        true_value = expected.get(key)
        if not true_value:
            fp += 1
        elif true_value == value:
            tp += 1
        else:
            fp += 1
            fn += 1
    fn += sum(1 for key in expected if not given.get(key))
    import numpy as np  # on first use: registry discovery imports this module at every start

    return Verdict(float(np.round(2 * tp / (2 * tp + fp + fn), 2)), given)


def consecutive_events(truth: Any, answer: str) -> Verdict:
    """Jaccard similarity of the (user_id, max_consecutive_growth_months) pairs answered as JSON in <solution>."""
    if isinstance(truth, str):
        try:
            truth = json.loads(truth)
        except json.JSONDecodeError:
            return Verdict(0.0, None, "the ground truth is not JSON")
    found = re.findall(r"<solution>(.*?)</solution>", answer, re.DOTALL | re.IGNORECASE)
    try:
        predicted = json.loads(found[-1].strip()) if found else None
    except json.JSONDecodeError:
        predicted = None
    if predicted is None:
        return Verdict(0.0, None, "no JSON in <solution>")
    if not truth and not predicted:
        return Verdict(1.0, predicted)
    if not truth or not predicted:
        return Verdict(0.0, predicted)
    expected = {r["user_id"]: r["max_consecutive_growth_months"] for r in truth}
    given = {r["user_id"]: r.get("max_consecutive_growth_months") for r in predicted
             if isinstance(r, dict) and "user_id" in r}
    tp = sum(1 for uid, value in expected.items() if uid in given and given[uid] == value)
    fp = sum(1 for uid in given if uid not in expected or given[uid] != expected.get(uid))
    fn = sum(1 for uid in expected if uid not in given or given.get(uid) != expected[uid])
    union = tp + fp + fn
    return Verdict(round(tp / union, 4) if union else 0.0, predicted)

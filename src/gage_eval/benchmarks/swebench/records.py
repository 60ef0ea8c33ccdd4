"""SWE-bench records (Lite, Verified, Pro share the schema): fields, list fields published as JSON strings,
and instance selection by id list or regex."""
from __future__ import annotations

import json
import re
from typing import Any

from gage_eval.datasets.preprocess import RecordError

REQUIRED = ("instance_id", "repo", "base_commit", "problem_statement")
LIST_FIELDS = ("FAIL_TO_PASS", "PASS_TO_PASS")


def test_list(record: dict[str, Any], name: str) -> list[str]:
    """FAIL_TO_PASS / PASS_TO_PASS: a list, or the JSON string of one as on the hub."""
    value = record.get(name)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise RecordError(f"'{name}' is neither a list nor the JSON text of one", name) from None
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise RecordError(f"'{name}' must be a list of test ids", name)
    return value


def normalise(record: dict[str, Any]) -> dict[str, Any]:
    for name in REQUIRED:
        if not isinstance(record.get(name), str) or not record[name].strip():
            raise RecordError(f"missing '{name}' (a SWE-bench record has instance_id, repo, base_commit, "
                              "problem_statement, patch, test_patch, FAIL_TO_PASS, PASS_TO_PASS)", name)
    out = {k: v for k, v in record.items() if isinstance(v, (str, int, float, bool, list, dict, type(None)))}
    for name in LIST_FIELDS:
        out[name] = test_list(record, name)
    out.setdefault("patch", "")
    out.setdefault("test_patch", "")
    return out


class InstanceFilter:
    """preprocess_kwargs `instance_ids` (list) and / or `instance_regex` (re.search on the id)."""

    def __init__(self, ids: list[str] | None = None, regex: str | None = None) -> None:
        self.ids = set(ids) if ids else None
        try:
            self.regex = re.compile(regex) if regex else None
        except re.error as exc:
            raise RecordError(f"instance_regex {regex!r} is not a regular expression: {exc}", "instance_regex") from None

    def keep(self, instance_id: str) -> bool:
        return (self.ids is None or instance_id in self.ids) and (self.regex is None or bool(self.regex.search(instance_id)))

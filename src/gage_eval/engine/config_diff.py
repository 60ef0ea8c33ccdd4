"""What differs between the config a run directory was made with and the one a rerun brings.

A run directory refuses a config whose results digest differs (results must never mix); the refusal is only
useful if it says which keys changed. Both sides are the redacted config dumps (config.json holds the earlier
one), restricted to what the digest covers, so scheduling knobs never show up and secrets never do.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gage_eval.redact import redact

_MISSING = object()
_SHORT = 40  # values longer than this are not printed, only named
# Items of these lists are matched by id, so inserting a dataset does not make every later one "changed".
_ID_KEYS = ("task_id", "dataset_id", "backend_id", "adapter_id", "metric_id", "prompt_id", "step", "name")


def results_view(config: dict[str, Any], scheduling_keys: Iterable[str]) -> dict[str, Any]:
    """The part of a config dump that the results digest covers (no execution, observability or scheduling)."""
    view = {k: v for k, v in config.items() if k not in ("execution", "observability")}
    keys = set(scheduling_keys)
    if isinstance(view.get("tasks"), list):
        view["tasks"] = [{k: v for k, v in t.items() if k not in keys} if isinstance(t, dict) else t
                         for t in view["tasks"]]
    return redact(view)


def _label(item: Any, index: int) -> str:
    if isinstance(item, dict):
        for key in _ID_KEYS:
            if isinstance(item.get(key), str):
                return item[key]
    return str(index)


def _keyed(items: list[Any]) -> dict[str, Any] | None:
    labels = [_label(item, i) for i, item in enumerate(items)]
    return dict(zip(labels, items)) if len(set(labels)) == len(labels) else None


def changed_keys(old: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """(dotted path, old value, new value) of every leaf that differs; a missing side is `_MISSING`."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in [*old, *(k for k in new if k not in old)]:
            out += changed_keys(old.get(key, _MISSING), new.get(key, _MISSING), f"{path}.{key}" if path else key)
        return out
    if isinstance(old, list) and isinstance(new, list):
        a, b = _keyed(old), _keyed(new)
        if a is None or b is None:  # ids missing or repeated: compare position by position
            a, b = {str(i): v for i, v in enumerate(old)}, {str(i): v for i, v in enumerate(new)}
        out = []
        for key in [*a, *(k for k in b if k not in a)]:
            out += changed_keys(a.get(key, _MISSING), b.get(key, _MISSING), f"{path}[{key}]")
        return out
    return [] if old == new else [(path, old, new)]


def _show(value: Any) -> str:
    if value is _MISSING:
        return "(absent)"
    text = repr(value)
    return text if len(text) <= _SHORT else f"<{type(value).__name__}, {len(text)} chars>"


def describe_changes(old: dict[str, Any], new: dict[str, Any], scheduling_keys: Iterable[str],
                     limit: int = 8) -> str:
    """`datasets[gsm8k].params.path: 'a.jsonl' → 'b.jsonl'; ...` for the message of a refused rerun."""
    keys = list(scheduling_keys)
    changes = changed_keys(results_view(old, keys), results_view(new, keys))
    if not changes:
        return "no key differs from the recorded config.json (the digest may come from an older gage-eval)"
    shown = [f"{p}: {_show(a)} → {_show(b)}" for p, a, b in changes[:limit]]
    more = f"; and {len(changes) - limit} more" if len(changes) > limit else ""
    return "; ".join(shown) + more

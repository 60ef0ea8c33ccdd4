"""`bfcl_leaderboard`: the run's BFCL categories combined as the leaderboard combines them
(bfcl_eval/eval_checker/eval_runner_helper.py, generate_leaderboard_csv):

- Non-Live AST = unweighted mean of simple (itself the unweighted mean of Python, Java, JavaScript), multiple,
  parallel, parallel_multiple;
- Live AST = mean of live_simple, live_multiple, live_parallel, live_parallel_multiple weighted by entry count;
- Irrelevance = unweighted mean of irrelevance and live_irrelevance (Relevance = live_relevance);
- Multi-Turn = unweighted mean of base, miss_func, miss_param, long_context;
- Overall = 10 % Non-Live + 10 % Live + 10 % Irrelevance + 30 % Multi-Turn + 40 % Agentic (web search, memory).

A category the run did not evaluate counts as 0 with its full entry count, as in BFCL (its score file is missing);
each group says whether it is complete and which categories it lacks, so a partial overall is never mistaken for
the leaderboard's number. Failed samples (no verdict) are left out of a category's accuracy.
"""
from __future__ import annotations

from typing import Any

from gage_eval.registry import registry

# Entries per category in BFCL v4 (bfcl-eval 2026.3.23), for the weights of missing categories.
FULL_COUNTS = {"simple_python": 400, "simple_java": 100, "simple_javascript": 50, "multiple": 200, "parallel": 200,
               "parallel_multiple": 200, "irrelevance": 240, "live_simple": 258, "live_multiple": 1053,
               "live_parallel": 16, "live_parallel_multiple": 24, "live_irrelevance": 884, "live_relevance": 16,
               "multi_turn_base": 200, "multi_turn_miss_func": 200, "multi_turn_miss_param": 200,
               "multi_turn_long_context": 200, "web_search_base": 100, "web_search_no_snippet": 100,
               "memory_kv": 155, "memory_vector": 155, "memory_rec_sum": 155}
Score = dict[str, Any]  # accuracy, total, missing (categories)


def _unweighted(parts: list[Score]) -> Score:
    return {"accuracy": sum(p["accuracy"] for p in parts) / len(parts), "total": sum(p["total"] for p in parts),
            "missing": [m for p in parts for m in p["missing"]]}


def _weighted(parts: list[Score]) -> Score:
    total = sum(p["total"] for p in parts)
    return {"accuracy": sum(p["accuracy"] * p["total"] for p in parts) / total if total else 0.0, "total": total,
            "missing": [m for p in parts for m in p["missing"]]}


def leaderboard(categories: dict[str, tuple[int, int]]) -> dict[str, Any]:
    """{category: (correct, total)} -> the leaderboard's groups and overall."""
    def cat(name: str) -> Score:
        if name in categories and categories[name][1]:
            correct, total = categories[name]
            return {"accuracy": correct / total, "total": total, "missing": []}
        return {"accuracy": 0.0, "total": FULL_COUNTS[name], "missing": [name]}

    simple = _unweighted([cat("simple_python"), cat("simple_java"), cat("simple_javascript")])
    groups = {
        "non_live_ast": _unweighted([simple, cat("multiple"), cat("parallel"), cat("parallel_multiple")]),
        "live_ast": _weighted([cat("live_simple"), cat("live_multiple"), cat("live_parallel"),
                               cat("live_parallel_multiple")]),
        "irrelevance": _unweighted([cat("irrelevance"), cat("live_irrelevance")]),
        "relevance": cat("live_relevance"),
        "multi_turn": _unweighted([cat("multi_turn_base"), cat("multi_turn_miss_func"), cat("multi_turn_miss_param"),
                                   cat("multi_turn_long_context")]),
        "agentic": _unweighted([_unweighted([cat("web_search_base"), cat("web_search_no_snippet")]),
                                _unweighted([cat("memory_kv"), cat("memory_vector"), cat("memory_rec_sum")])]),
    }
    weights = {"non_live_ast": 10, "live_ast": 10, "irrelevance": 10, "multi_turn": 30, "agentic": 40}
    overall = sum(groups[g]["accuracy"] * w for g, w in weights.items()) / sum(weights.values())
    missing = sorted({m for g in weights for m in groups[g]["missing"]})
    return {"groups": {k: {"accuracy": v["accuracy"], "complete": not v["missing"], "missing": v["missing"]}
                       for k, v in groups.items()},
            "overall": {"accuracy": overall, "complete": not missing, "missing": missing}}


@registry.asset("summary_generators", "bfcl_leaderboard", desc="BFCL categories, the leaderboard's groups "
                "(Non-Live, Live, Irrelevance, Multi-Turn) and its weighted overall", tags=("bfcl", "agents"))
class BfclLeaderboard:
    run_wide = True  # quick mode adds it once for all BFCL tasks rather than once per task

    def __init__(self, **_: Any) -> None:  # every task's BFCL samples count, whatever task_id quick mode passes
        self.counts: dict[str, list[int]] = {}

    def add(self, record: dict[str, Any]) -> None:
        category = ((record.get("sample") or {}).get("metadata") or {}).get("bfcl_category")
        metrics = record.get("metrics") or {}
        value = next((v for k, v in metrics.items() if k.startswith("bfcl_accuracy")), None)
        if category is None or not isinstance(value, (int, float)):
            return
        entry = self.counts.setdefault(str(category), [0, 0])
        entry[0] += value >= 1.0
        entry[1] += 1

    def result(self) -> dict[str, Any]:
        if not self.counts:
            return {}
        categories = {k: (c, t) for k, (c, t) in sorted(self.counts.items())}
        board = leaderboard(categories)
        out = {"categories": {k: {"accuracy": c / t, "correct": c, "total": t} for k, (c, t) in categories.items()},
               **board}
        out["markdown"] = markdown(out)
        return out


def markdown(board: dict[str, Any]) -> str:
    rows = [("BFCL category", "Accuracy", "n")]
    rows += [(k, f"{v['accuracy'] * 100:.2f}%", str(v["total"])) for k, v in board["categories"].items()]
    for name, group in board["groups"].items():
        note = "" if group["complete"] else f" (partial: {len(group['missing'])} categories not run, counted as 0)"
        if group["missing"] and len(group["missing"]) == _size(name):
            continue  # nothing of this group ran: no row
        rows.append((f"{name}{note}", f"{group['accuracy'] * 100:.2f}%", ""))
    overall = board["overall"]
    label = "overall" if overall["complete"] else f"overall (partial: {len(overall['missing'])} categories counted as 0)"
    rows.append((label, f"{overall['accuracy'] * 100:.2f}%", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) + " |"
             for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths)) + "|")
    return "\n".join(lines)


def _size(group: str) -> int:
    return {"non_live_ast": 6, "live_ast": 4, "irrelevance": 2, "relevance": 1, "multi_turn": 4, "agentic": 5}[group]

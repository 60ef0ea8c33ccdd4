"""The files users of the reference system look for, written from a scored (evaluate) run's samples.jsonl.

IFEval: `candidate_outputs.jsonl` ({prompt, response}, google's input_response_data format),
`eval_results_strict.jsonl` / `eval_results_loose.jsonl` (google's evaluation_main output records).
AlpacaEval: `model_outputs.json`, `annotations.json`, `leaderboard.csv` (the alpaca_eval package's columns).
TruthfulQA: `answers.jsonl` (generated answers with the judge's verdicts), `mc.jsonl`, `results.json`.
LiveBench: `<category>/<task>/model_answer/<model>.jsonl`, `<category>/<task>/model_judgment/
ground_truth_judgment.jsonl`, and `all_tasks.csv` / `all_groups.csv` as its show_livebench_result writes them.
"""
from __future__ import annotations

import csv
import json
import math
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gage_eval.report.summary import iter_records


@dataclass(frozen=True)
class FileContext:
    run_dir: Path  # the evaluate run
    out_dir: Path  # <output>/<model>/<benchmark>
    model: str

    def records(self, task: str | None = None) -> Iterator[dict[str, Any]]:
        rows = [r for r in iter_records(self.run_dir / "samples.jsonl") if task is None or r.get("task_id") == task]
        yield from sorted(rows, key=lambda r: (str(r.get("task_id")), r.get("seq", 0)))

    def summary(self) -> dict[str, Any]:
        path = self.run_dir / "summary.json"
        return json.loads(path.read_text()) if path.exists() else {}


def _prompt(record: dict[str, Any]) -> str:
    messages = (record.get("sample") or {}).get("messages") or []
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else "".join(p.get("text", "") for p in content or [])
    return str(((record.get("sample") or {}).get("inputs") or {}).get("prompt", ""))


def _answer(record: dict[str, Any]) -> str:
    return str((record.get("model_output") or {}).get("answer") or "")


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def ifeval(ctx: FileContext) -> list[Path]:
    candidates, strict, loose = [], [], []
    for rec in ctx.records("ifeval"):
        prompt, response = _prompt(rec), _answer(rec)
        candidates.append({"prompt": prompt, "response": response})
        details = next((d for d in (rec.get("metric_details") or {}).values()
                        if isinstance(d, dict) and "instructions" in d), None)
        if details is None:
            continue  # a failed sample has no verdicts
        ids = [i["id"] for i in details["instructions"]]
        for rows, key in ((strict, "strict"), (loose, "loose")):
            follow = [bool(i[key]) for i in details["instructions"]]
            rows.append({"instruction_id_list": ids, "prompt": prompt, "response": response,
                         "follow_all_instructions": all(follow), "follow_instruction_list": follow})
    return [_write_jsonl(ctx.out_dir / "candidate_outputs.jsonl", candidates),
            _write_jsonl(ctx.out_dir / "eval_results_strict.jsonl", strict),
            _write_jsonl(ctx.out_dir / "eval_results_loose.jsonl", loose)]


def alpacaeval(ctx: FileContext) -> list[Path]:
    outputs, annotations = [], []
    wins = base_wins = draws = 0
    prefs: list[float] = []
    for rec in ctx.records("alpaca_eval2"):
        meta = (rec.get("sample") or {}).get("metadata") or {}
        instruction, output = _prompt(rec), _answer(rec)
        outputs.append({"instruction": instruction, "output": output, "generator": ctx.model,
                        "dataset": meta.get("dataset")})
        judge = rec.get("judge_output") or {}
        value = _finite((rec.get("metrics") or {}).get("win_rate"))
        preference = None if value is None else 1.0 + value  # alpaca_eval: 1 = baseline, 2 = model, 1.5 = draw
        annotations.append({"instruction": instruction, "output_1": meta.get("baseline_output"),
                            "generator_1": meta.get("baseline_generator"), "output_2": output,
                            "generator_2": ctx.model, "annotator": "gage_pairwise_judge", "preference": preference,
                            "consistent": judge.get("consistent"), "raw_completion": judge.get("verdicts")})
        if value is not None:
            prefs.append(value)
            wins += value == 1.0
            base_wins += value == 0.0
            draws += value == 0.5
    paths = [_write_json(ctx.out_dir / "model_outputs.json", outputs),
             _write_json(ctx.out_dir / "annotations.json", annotations)]
    n = len(prefs)
    mean = sum(prefs) / n if n else float("nan")
    se = (math.sqrt(sum((p - mean) ** 2 for p in prefs) / (n - 1)) / math.sqrt(n)) if n > 1 else float("nan")
    lc = next((v for k, v in (ctx.summary().get("summary_generators") or {}).items()
               if k.startswith("alpaca_eval_lc") and isinstance(v, dict)), {})
    lengths = [len(o["output"]) for o in outputs]
    row = {"": ctx.model, "win_rate": 100 * mean, "standard_error": 100 * se, "n_wins": wins,
           "n_wins_base": base_wins, "n_draws": draws, "n_total": n,
           "discrete_win_rate": 100 * (wins + 0.5 * draws) / n if n else float("nan"), "mode": "community",
           "avg_length": round(sum(lengths) / len(lengths)) if lengths else 0,
           "length_controlled_winrate": lc.get("length_controlled_winrate"),
           "lc_standard_error": lc.get("lc_standard_error")}
    path = ctx.out_dir / "leaderboard.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    return [*paths, path]


def truthfulqa(ctx: FileContext) -> list[Path]:
    answers = []
    for rec in ctx.records("truthfulqa_gen"):
        meta = (rec.get("sample") or {}).get("metadata") or {}
        metrics = rec.get("metrics") or {}
        answers.append({"question": meta.get("question") or _prompt(rec), "answer": _answer(rec),
                        "truthful": _finite(metrics.get("truthful")),
                        "informative": _finite(metrics.get("informative")),
                        "judge": {k: (rec.get("judge_output") or {}).get(k) for k in ("truthful_raw", "informative_raw")}})
    mc = [{"task": rec["task_id"], "sample_id": rec["sample_id"], "question": _prompt(rec),
           **{k: _finite(v) for k, v in (rec.get("metrics") or {}).items()}}
          for task in ("truthfulqa_mc1", "truthfulqa_mc2") for rec in ctx.records(task)]
    results = {t.get("task_id"): {k: v.get("value") for k, v in (t.get("metrics") or {}).items()}
               for t in ctx.summary().get("tasks") or []}
    paths = [_write_jsonl(ctx.out_dir / "answers.jsonl", answers), _write_json(ctx.out_dir / "results.json", results)]
    if mc:
        paths.append(_write_jsonl(ctx.out_dir / "mc.jsonl", mc))
    return paths


def _livebench_score(rec: dict[str, Any]) -> float | None:
    metrics = rec.get("metrics") or {}
    for name in ("score", "livebench_score", "acc", "accuracy"):
        if name in metrics:
            return _finite(metrics[name])
    return next((_finite(v) for v in metrics.values()), None)


def livebench(ctx: FileContext) -> list[Path]:
    answers: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    judgments: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    now = time.time()
    for rec in ctx.records("livebench"):
        meta = (rec.get("sample") or {}).get("metadata") or {}
        category = str(meta.get("category") or "unknown")
        task = str(meta.get("task") or category)
        qid = str(meta.get("question_id") or rec["sample_id"])
        answers[(category, task)].append({"question_id": qid, "answer_id": uuid.uuid5(uuid.NAMESPACE_URL, ctx.model +
                                                                                      qid).hex,
                                          "model_id": ctx.model, "choices": [{"index": 0, "turns": [_answer(rec)]}],
                                          "tstamp": now})
        score = _livebench_score(rec)
        if score is not None:
            judgments[(category, task)].append({"question_id": qid, "task": task, "model": ctx.model,
                                                "score": score, "turn": 1, "tstamp": now, "category": category})
    paths = []
    for (category, task), rows in sorted(answers.items()):
        paths.append(_write_jsonl(ctx.out_dir / category / task / "model_answer" / f"{ctx.model}.jsonl", rows))
    task_means: dict[tuple[str, str], float] = {}
    for (category, task), rows in sorted(judgments.items()):
        paths.append(_write_jsonl(ctx.out_dir / category / task / "model_judgment" / "ground_truth_judgment.jsonl",
                                  rows))
        task_means[(category, task)] = 100 * sum(r["score"] for r in rows) / len(rows)
    # LiveBench's tables: a task's score is its mean; a category's the mean of its tasks; the average the mean
    # of the categories.
    groups: dict[str, list[float]] = defaultdict(list)
    for (category, _), mean in task_means.items():
        groups[category].append(mean)
    group_means = {c: sum(v) / len(v) for c, v in sorted(groups.items())}
    for name, header, row in (("all_tasks.csv", [t for _, t in sorted(task_means)], [task_means[k] for k in
                                                                                       sorted(task_means)]),
                              ("all_groups.csv", ["average", *group_means],
                               [sum(group_means.values()) / len(group_means) if group_means else float("nan"),
                                *group_means.values()])):
        path = ctx.out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["model", *header])
            writer.writerow([ctx.model, *(round(v, 1) for v in row)])
        paths.append(path)
    return paths

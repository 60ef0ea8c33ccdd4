"""Model answers from earlier runs (their samples.jsonl), aligned by sample id so an arena judges answers
without generating them again. Gaps (ids a run lacks) are counted and reported; runs on different datasets
(same id, different question) are an error rather than a silently meaningless comparison."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gage_eval.errors import ConfigError
from gage_eval.report.summary import iter_records
from gage_eval.sample import Sample


@dataclass
class RunOutputs:
    name: str
    run_dir: Path
    answers: dict[str, str] = field(default_factory=dict)    # key -> answer text
    questions: dict[str, str] = field(default_factory=dict)  # key -> question text
    references: dict[str, Any] = field(default_factory=dict)
    failed: int = 0


def load_run_outputs(name: str, run_dir: Path, where: str = "models") -> RunOutputs:
    samples = Path(run_dir) / "samples.jsonl"
    if not samples.exists():
        raise ConfigError(f"model '{name}': no samples.jsonl in {run_dir}", path=where,
                          fix="point at a run directory written by `gage run` / `gage eval` (runs/<run_id>)")
    out = RunOutputs(name, Path(run_dir))
    for record in iter_records(samples):
        if record.get("status") != "ok":
            out.failed += 1
            continue
        sample = record.get("sample") or {}
        key = f"{record.get('task_id', '')}/{record.get('sample_id', sample.get('id'))}"
        answer = (record.get("model_output") or {}).get("answer")
        if answer is None:
            out.failed += 1
            continue
        out.answers[key] = str(answer)
        out.questions[key] = Sample.model_validate(sample).evaluated_question() if sample else ""
        if sample.get("label") is not None:
            out.references[key] = sample["label"]
    if not out.answers:
        raise ConfigError(f"model '{name}': {samples} holds no finished answers ({out.failed} failed)", path=where,
                          fix="finish the run first (rerun it with the same --run-id to resume)")
    return out


def check_alignment(outputs: list[RunOutputs], allow_mismatch: bool = False) -> dict[str, Any]:
    """Gaps per model and question mismatches; raises when the runs cannot be compared."""
    union: dict[str, None] = {}
    for o in outputs:
        union.update(dict.fromkeys(o.answers))
    common = [k for k in union if all(k in o.answers for o in outputs)]
    if not common and len(outputs) > 1:
        raise ConfigError("the runs share no sample ids: " + ", ".join(f"{o.name} ({len(o.answers)} answers)"
                                                                       for o in outputs),
                          path="models", fix="compare runs of the same benchmark (same dataset and task ids)")
    mismatched = [k for k in common if len({o.questions[k] for o in outputs}) > 1]
    if mismatched and not allow_mismatch:
        raise ConfigError(f"{len(mismatched)} of {len(common)} shared sample ids have different questions in "
                          f"different runs (first: '{mismatched[0]}')", path="models",
                          fix="the runs were made on different datasets or prompts; compare runs of the same "
                              "dataset, or pass --allow-mismatch to judge anyway")
    return {"sample_ids": len(union), "common": len(common), "mismatched": len(mismatched),
            "gaps": {o.name: len(union) - len(o.answers) for o in outputs},
            "failed": {o.name: o.failed for o in outputs}}


def build_pairs(outputs: list[RunOutputs], mode: str, baseline: str | None, limit: int | None = None
                ) -> list[dict[str, Any]]:
    """Records for the judge pipeline: one per (question, model pair), or per (question, model) in single mode."""
    by_name = {o.name: o for o in outputs}
    order: dict[str, None] = {}
    for o in outputs:
        order.update(dict.fromkeys(o.answers))
    keys = list(order)[:limit] if limit is not None else list(order)
    if mode == "single":
        return [{"id": f"{k}|{o.name}", "inputs": {"prompt": o.questions[k], "answer": o.answers[k], "model": o.name,
                                                   "source_id": k}, "label": o.references.get(k)}
                for o in outputs for k in keys if k in o.answers]
    if mode == "pairwise-baseline":
        if baseline not in by_name:
            raise ConfigError(f"baseline '{baseline}' is not one of the models ({', '.join(by_name)})",
                              path="baseline", fix="name the baseline by one of the model names")
        pairs = [(baseline, o.name) for o in outputs if o.name != baseline]
    elif mode == "pairwise-all":
        names = [o.name for o in outputs]
        pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
    else:
        raise ConfigError(f"unknown arena mode '{mode}'", path="mode",
                          fix="use single, pairwise-baseline or pairwise-all")
    records = []
    for a, b in pairs:
        oa, ob = by_name[a], by_name[b]
        for k in keys:
            if k in oa.answers and k in ob.answers:
                records.append({"id": f"{k}|{a}|{b}", "label": oa.references.get(k),
                                "inputs": {"prompt": oa.questions[k], "answer_a": oa.answers[k],
                                           "answer_b": ob.answers[k], "model_a": a, "model_b": b, "source_id": k}})
    return records

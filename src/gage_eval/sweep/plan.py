"""Where each (model, benchmark) lives on disk, the pipelines of its two phases, and whether they are done.

    <output>/runs/<model>__<benchmark>/         evaluate run (scores; `gage view <output>/runs`)
    <output>/generations/<model>__<benchmark>/  generate run (the model's answers)
    <output>/<model>/<benchmark>/               the reference system's files
    <output>/logs/server-<model>.log            the model server's output

Each phase is an engine run compiled by quick mode from the benchmark's templates, so resume, events, reports
and `gage view` work as for any run. A finished phase leaves `sweep_unit.json` in its run directory (the
config digest and limit it finished with), which is how a rerun knows there is nothing left to do.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gage_eval.config import config_from_dict
from gage_eval.config.phases import evaluate_with_replay, generate_only
from gage_eval.config.quick import compile_quick, quick_task
from gage_eval.report.summary import write_json_atomic
from gage_eval.sweep.benchmarks import SweepBenchmark
from gage_eval.sweep.config import BenchmarkSettings, SweepOptions
from gage_eval.sweep.models import SweepModel

MARKER = "sweep_unit.json"
FINISHED = ("completed", "completed_with_failures")


@dataclass(frozen=True)
class Unit:
    model: SweepModel
    bench: SweepBenchmark
    settings: BenchmarkSettings
    root: Path

    @property
    def run_id(self) -> str:
        return f"{self.model.name}__{self.bench.name}"

    @property
    def gen_dir(self) -> Path:
        return self.root / "generations" / self.run_id

    @property
    def eval_dir(self) -> Path:
        return self.root / "runs" / self.run_id

    @property
    def files_dir(self) -> Path:
        return self.root / self.model.name / self.bench.name

    def run_dir(self, phase: str) -> Path:
        return self.gen_dir if phase == "generate" else self.eval_dir

    @property
    def label(self) -> str:
        return f"{self.model.name}/{self.bench.name}"


def units(opts: SweepOptions, models: list[SweepModel], benches: list[SweepBenchmark]) -> list[Unit]:
    def effective(name: str) -> BenchmarkSettings:  # a benchmark's own limit wins over --limit
        settings = opts.benchmarks[name]
        return settings.model_copy(update={"limit": settings.limit or opts.limit})

    return [Unit(m, b, effective(b.name), opts.output_dir) for m in models for b in benches]


def _quick(unit: Unit, opts: SweepOptions, with_judge: bool) -> dict[str, Any]:
    model, bench = unit.model, unit.bench
    templates = bench.templates_for(model)
    model_args: dict[str, Any] = {"api": bench.api_for(model)}
    data: dict[str, Any] = {"datasets": templates, "generation_config": dict(opts.generation_config),
                            "dataset_args": {t: a for t, a in bench.args_for(unit.settings).items() if t in templates},
                            "limit": unit.settings.limit, "dataset_dir": opts.dataset_dir,
                            "run_id": unit.run_id}
    if model.launched:
        serve = opts.serve.server
        # Only what identifies the answers goes in the config: the checkpoint and the server kind. Port, memory
        # and parallelism are the sweep's (settings.running_servers), so changing them keeps the runs resumable.
        data.update(model=model.source, serve=serve, model_id=model.name)
    else:
        data.update(model=model.api_name or model.name, api_url=model.api_base)
        if model.api_key_env:
            model_args["api_key_env"] = model.api_key_env
    data["model_args"] = model_args
    if with_judge and bench.judged and opts.judge.api_base:
        judge = {"api_url": opts.judge.api_base, "model_id": opts.judge.model_name or "judge"}
        if opts.judge.api_key_env:
            judge["api_key_env"] = opts.judge.api_key_env
        data["judge_model_args"] = judge
    elif bench.judged:  # generate phase: the judge is dropped with the judge steps; any URL compiles
        data["judge_model_args"] = {"api_url": "http://127.0.0.1:9/v1", "model_id": "judge"}
    pipeline = compile_quick(quick_task({k: v for k, v in data.items() if v is not None}))
    pipeline["metadata"].update(name=unit.run_id, sweep_model=model.name, sweep_benchmark=bench.name,
                                **({"checkpoint_step": model.step} if model.step is not None else {}))
    return pipeline


def generate_pipeline(unit: Unit, opts: SweepOptions) -> dict[str, Any]:
    return generate_only(_quick(unit, opts, with_judge=False), keep=unit.bench.model_steps)


def evaluate_pipeline(unit: Unit, opts: SweepOptions) -> dict[str, Any]:
    return evaluate_with_replay(_quick(unit, opts, with_judge=True), str(unit.gen_dir))


def expected_digest(pipeline: dict[str, Any]) -> str:
    from gage_eval.engine.runtime import results_digest

    return results_digest(config_from_dict(pipeline))


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def summary_status(run_dir: Path) -> str | None:
    summary = _read(run_dir / "summary.json")
    return ((summary or {}).get("run") or {}).get("status")


def is_done(unit: Unit, phase: str, pipeline: dict[str, Any], skip_existing: bool) -> bool:
    """Finished with this config and limit (a rerun would change nothing); with --skip-existing any finished
    run counts, whatever its config or failed samples."""
    run_dir = unit.run_dir(phase)
    if skip_existing:
        return summary_status(run_dir) in FINISHED
    marker = _read(run_dir / MARKER)
    if not marker or marker.get("status") != "completed" or summary_status(run_dir) != "completed":
        return False
    if marker.get("results_digest") != expected_digest(pipeline) or marker.get("limit") != limit_of(unit):
        return False
    if phase == "evaluate":  # answers regenerated since they were scored: score again
        source = _read(unit.gen_dir / MARKER) or {}
        return marker.get("source_finished_at") == source.get("finished_at")
    return True


def limit_of(unit: Unit) -> int | None:
    return unit.settings.limit


def mark_done(unit: Unit, phase: str, pipeline: dict[str, Any], summary: dict[str, Any]) -> None:
    run = summary.get("run") or {}
    marker = {"phase": phase, "status": run.get("status"), "results_digest": run.get("results_digest"),
              "limit": limit_of(unit), "finished_at": run.get("finished_at"), "sample_count": summary.get("sample_count")}
    if phase == "evaluate":
        marker["source_finished_at"] = (_read(unit.gen_dir / MARKER) or {}).get("finished_at")
    write_json_atomic(unit.run_dir(phase) / MARKER, marker)


def generated(unit: Unit) -> bool:
    """The generate run finished (possibly with failed samples): its answers can be scored."""
    return summary_status(unit.gen_dir) in FINISHED

"""ArenaConfig: which models, how they are judged, and its compilation into an ordinary PipelineConfig.

An arena is a judge pipeline over pair records: `compile_arena` collects every model's answers (an earlier
run's samples.jsonl, or a live backend that first answers the arena's dataset in a normal run), writes the
pairs to `<run dir>/arena_pairs.jsonl` and returns a PipelineConfig whose judge step scores them. So an
arena gets everything a run has: bounded concurrency, the response cache, Ctrl-C and resume, events,
summary.json and report.html — plus the `arena_leaderboard` summary section.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, model_validator

from gage_eval.arena.inputs import RunOutputs, build_pairs, check_alignment, load_run_outputs
from gage_eval.config.models import BackendSpec, DatasetSpec
from gage_eval.errors import ConfigError, RunFailed

ArenaMode = Literal["single", "pairwise-baseline", "pairwise-all"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ArenaModel(_Strict):
    name: str = Field(min_length=1)
    run: Path | None = None  # an earlier run directory (runs/<run_id>)
    backend: BackendSpec | None = None  # a live model: answers the arena dataset first

    @model_validator(mode="after")
    def _one_source(self) -> ArenaModel:
        if (self.run is None) == (self.backend is None):
            raise ValueError(f"model '{self.name}' needs exactly one of run (a run directory) or backend")
        return self


class ArenaJudge(_Strict):
    backend: BackendSpec | None = None
    human: bool = False  # serve the pairs on a local web page and let a person judge
    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)
    prompt: str | None = None  # a prompts-registry implementation (default: judge_pairwise / judge_score)
    swap: bool = True
    allow_tie: bool = True
    parse_retries: int = Field(default=2, ge=0)
    generation: dict[str, Any] = Field(default_factory=lambda: {"temperature": 0, "max_tokens": 1024})

    @model_validator(mode="after")
    def _who_judges(self) -> ArenaJudge:
        if not self.human and self.backend is None:
            raise ValueError("the judge needs a backend (an LLM judge) or human: true")
        return self


class ArenaConfig(_Strict):
    api_version: str = "gage/v1alpha1"
    kind: Literal["ArenaConfig"] = "ArenaConfig"
    name: str = "arena"
    mode: ArenaMode = "pairwise-baseline"
    baseline: str | None = None
    models: list[ArenaModel] = Field(min_length=1)
    judge: ArenaJudge
    dataset: DatasetSpec | None = None  # what live models answer
    generation: dict[str, Any] = Field(default_factory=lambda: {"temperature": 0, "max_tokens": 1024})
    limit: int | None = Field(default=None, ge=1)
    allow_mismatch: bool = False
    bootstrap_rounds: int = Field(default=1000, ge=0)
    seed: int = 0
    concurrency: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> ArenaConfig:
        names = [m.name for m in self.models]
        if len(set(names)) != len(names):
            raise ValueError(f"model names must be unique (got {names})")
        if self.mode != "single" and len(names) < 2:
            raise ValueError(f"mode {self.mode} compares models: give at least two")
        if self.mode == "pairwise-baseline":
            if self.baseline is None:
                raise ValueError("mode pairwise-baseline needs `baseline`, the name of one of the models")
            if self.baseline not in names:
                raise ValueError(f"baseline '{self.baseline}' is not one of the models {names}")
        if any(m.backend for m in self.models) and self.dataset is None:
            raise ValueError("live models (backend) need `dataset`: the questions they answer")
        return self


def _generate_live(cfg: ArenaConfig, model: ArenaModel, root: Path, settings_overrides: dict[str, Any]) -> Path:
    """Let a live model answer the arena dataset in a normal run (resumable, cached like any run)."""
    from gage_eval.api import run

    assert model.backend is not None and cfg.dataset is not None
    backend = model.backend.model_dump(exclude_none=True)
    backend["backend_id"] = "model"
    # One name for every model: the task id (part of each sample key) must match across the runs.
    pipeline = {"kind": "PipelineConfig", "metadata": {"name": cfg.name},
                "custom": {"steps": [{"step": "inference", "adapter_id": "dut"}]},
                "datasets": [cfg.dataset.model_dump(by_alias=True, exclude_none=True)], "backends": [backend],
                "role_adapters": [{"adapter_id": "dut", "role_type": "dut_model", "backend_id": "model",
                                   "params": {"generation": cfg.generation}}]}
    # A model name may be a hub id ("org/model"); its run folder must be one path component.
    run_id = re.sub(r"[^\w.-]", "_", model.name).strip(".") or "model"
    result = run(pipeline, output_dir=root, run_id=run_id, max_samples=cfg.limit,
                 **{k: v for k, v in settings_overrides.items() if k in ("use_cache", "progress", "concurrency")})
    if result.status == "failed":  # e.g. its server is down: no battles can be judged from it
        error = result.summary["run"]["error"] or {}
        raise RunFailed(f"model '{model.name}' could not generate its answers ({result.run_dir}): "
                        f"{error.get('message')}", fix=error.get("fix"))
    return result.run_dir


def collect_outputs(cfg: ArenaConfig, arena_dir: Path, settings_overrides: dict[str, Any] | None = None
                    ) -> list[RunOutputs]:
    for i, model in enumerate(cfg.models):  # check earlier runs before any live model spends time generating
        if model.run is not None and not (Path(model.run) / "samples.jsonl").exists():
            load_run_outputs(model.name, Path(model.run), where=f"models[{i}].run")
    outputs = []
    for i, model in enumerate(cfg.models):
        run_dir = model.run if model.run is not None else _generate_live(cfg, model, arena_dir / "generations",
                                                                           settings_overrides or {})
        outputs.append(load_run_outputs(model.name, Path(run_dir), where=f"models[{i}].run"))
    return outputs


def _judge_adapter(cfg: ArenaConfig) -> dict[str, Any]:
    judge = cfg.judge
    params: dict[str, Any] = {"generation": judge.generation, "parse_retries": judge.parse_retries}
    adapter: dict[str, Any] = {"adapter_id": "judge", "params": params}
    if judge.human:
        adapter["role_type"] = "human_judge"
        params.update(host=judge.host, port=judge.port, seed=cfg.seed)
        return adapter
    adapter["backend_id"] = "judge_backend"
    if cfg.mode == "single":
        adapter["role_type"] = "judge_model"
        params["fields"] = {"answer": "sample.inputs.answer"}
    else:
        adapter["role_type"] = "pairwise_judge"
        params.update(swap=judge.swap, allow_tie=judge.allow_tie)
    if judge.prompt:
        adapter["prompt_id"] = "arena_judge"
    return adapter


def compile_arena(cfg: ArenaConfig, run_dir: Path, outputs: list[RunOutputs]) -> dict[str, Any]:
    """Write the pair records into `run_dir` and return the judge PipelineConfig (a dict)."""
    alignment = check_alignment(outputs, cfg.allow_mismatch)
    pairs = build_pairs(outputs, cfg.mode, cfg.baseline, cfg.limit)
    if not pairs:
        raise ConfigError("nothing to judge: no question was answered by the models being compared", path="models",
                          fix="check that the runs finished and cover the same samples")
    run_dir.mkdir(parents=True, exist_ok=True)
    pairs_path = run_dir / "arena_pairs.jsonl"
    pairs_path.write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in pairs))
    pipeline: dict[str, Any] = {
        "kind": "PipelineConfig", "metadata": {"name": cfg.name},
        "custom": {"steps": [{"step": "judge", "adapter_id": "judge"}, {"step": "auto_eval"}]},
        "datasets": [{"dataset_id": "arena_pairs", "loader": "jsonl", "params": {"path": str(pairs_path)}}],
        "backends": [], "role_adapters": [_judge_adapter(cfg)],
        "metrics": ["judge_score"] if cfg.mode == "single" else ["pairwise_win"],
        "summary_generators": [{"name": "arena_leaderboard", "params": {
            "mode": cfg.mode, "baseline": cfg.baseline, "models": [o.name for o in outputs],
            "alignment": alignment, "bootstrap_rounds": cfg.bootstrap_rounds, "seed": cfg.seed}}],
    }
    if cfg.judge.backend is not None:
        pipeline["backends"].append({**cfg.judge.backend.model_dump(exclude_none=True), "backend_id": "judge_backend"})
    if cfg.judge.prompt:
        pipeline["prompts"] = [{"prompt_id": "arena_judge", "implementation": cfg.judge.prompt}]
    if cfg.concurrency:
        pipeline["execution"] = {"concurrency": cfg.concurrency}
    return pipeline

"""Sweep settings: the CLI flags and the config file (`gage sweep --config sweep.yaml`) as one validated model.

Config-file mode names already-running servers (no launch) with the reference system's keys:

    models:
      - {id: step-100, api_name: ckpt-100, api_base: http://127.0.0.1:8001/v1, api_key_env: MY_KEY}
    judge: {api_base: http://judge:8000/v1, api_key_env: JUDGE_KEY, model_name: judge}
    benchmarks: {ifeval: true, truthfulqa: {limit: 50}, alpacaeval: false, livebench: {categories: [math]}}

Keys are never written here, only the names of the environment variables that hold them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gage_eval.config.loading import validation_to_config_error
from gage_eval.errors import ConfigError

Phase = Literal["generate", "evaluate", "all"]
DEFAULT_BENCHMARKS = ("ifeval", "truthfulqa", "alpacaeval", "livebench")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelEntry(_Strict):
    id: str
    api_base: str
    api_name: str | None = None  # default: id
    api_key_env: str | None = None
    step: int | None = None  # default: the number in id
    loglikelihood: bool = False  # the server returns prompt log-probabilities (vLLM /v1/completions echo)


class JudgeSettings(_Strict):
    api_base: str | None = None
    api_key_env: str | None = None
    model_name: str | None = None


class BenchmarkSettings(_Strict):
    enabled: bool = True
    limit: int | None = Field(default=None, ge=1)
    categories: list[str] | None = None  # LiveBench
    release: str | None = None  # LiveBench release date (YYYY-MM-DD)
    dataset_args: dict[str, dict[str, Any]] = Field(default_factory=dict)  # per template, quick mode's keys


class ServeSettings(_Strict):
    server: str = "vllm"  # vllm | sglang | tgi | gage, or a command template with {model_path} and {port}
    port: int = Field(default=8001, ge=0, le=65535)  # 0: a free port for each server
    gpu_mem: float = Field(default=0.85, gt=0, le=1)
    tp_size: int = Field(default=1, ge=1)
    max_model_len: int | None = Field(default=None, ge=1)
    ready_timeout_s: float = Field(default=900.0, gt=0)
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)


class SweepOptions(_Strict):
    model_input: str | None = None
    models: list[ModelEntry] = Field(default_factory=list)
    judge: JudgeSettings = Field(default_factory=JudgeSettings)
    benchmarks: dict[str, BenchmarkSettings] = Field(default_factory=dict)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    output_dir: Path = Path("sweep_results")
    phase: Phase = "all"
    skip_existing: bool = False
    limit: int | None = Field(default=None, ge=1)
    concurrency: int | None = Field(default=None, ge=1)
    dataset_dir: str | None = None
    generation_config: dict[str, Any] = Field(default_factory=dict)
    progress: Literal["auto", "plain", "off"] = "auto"

    @field_validator("benchmarks", mode="before")
    @classmethod
    def _flags(cls, value: Any) -> Any:
        if isinstance(value, dict):  # `ifeval: true` / `alpacaeval: false` as on/off flags
            return {k: {"enabled": v} if isinstance(v, bool) else ({} if v is None else v) for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _one_source(self) -> SweepOptions:
        if self.model_input and self.models:
            raise ValueError("give MODEL_INPUT or models: in the config file, not both")
        if not self.model_input and not self.models:
            raise ValueError("nothing to evaluate: give MODEL_INPUT (a checkpoint folder, a folder of "
                             "checkpoints or a hub id) or models: in the config file")
        return self

    def selected(self) -> list[str]:
        return [name for name, b in self.benchmarks.items() if b.enabled]


def load_options(config_file: Path | None, flags: dict[str, Any]) -> SweepOptions:
    """Config file first, then the flags that were given (None = not given) on top."""
    data: dict[str, Any] = {}
    if config_file is not None:
        try:
            data = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise ConfigError(f"cannot read {config_file}: {exc.strerror}", path="--config",
                              fix="check the path") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"not valid YAML: {exc}", file=str(config_file), fix="fix the YAML syntax") from None
        if not isinstance(data, dict):
            raise ConfigError("the sweep config must be a mapping (models, judge, benchmarks, ...)",
                              file=str(config_file), fix="see `gage sweep --help`")
    serve = {k: flags.pop(k) for k in list(flags) if k.startswith("serve.")}
    benchmarks = flags.pop("benchmarks", None)
    judge = {k: flags.pop(f"judge.{k}") for k in ("api_base", "api_key_env", "model_name")
             if flags.get(f"judge.{k}") is not None}
    for key in [k for k in flags if k.startswith("judge.")]:
        flags.pop(key)
    data.update({k: v for k, v in flags.items() if v is not None})
    if judge:
        data["judge"] = {**(data.get("judge") or {}), **judge}
    serve = {k.split(".", 1)[1]: v for k, v in serve.items() if v is not None}
    if serve:
        data["serve"] = {**(data.get("serve") or {}), **serve}
    if benchmarks is not None or "benchmarks" not in data:
        names = benchmarks if benchmarks is not None else list(DEFAULT_BENCHMARKS)
        configured = data.get("benchmarks") or {}
        data["benchmarks"] = {n: configured.get(n, {}) if isinstance(configured.get(n), dict) else {} for n in names}
    try:
        return SweepOptions.model_validate(data)
    except ValidationError as exc:
        raise validation_to_config_error(exc, str(config_file) if config_file else None, SweepOptions) from None

"""Configuration: pydantic models, loading with path-precise errors, templates and references."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from gage_eval.config.loading import parse_model, read_yaml
from gage_eval.config.models import BuiltinTemplate, PipelineConfig, RunConfig
from gage_eval.config.references import resolve_references
from gage_eval.config.templates import compile_run_config
from gage_eval.errors import ConfigError

__all__ = ["BuiltinTemplate", "PipelineConfig", "RunConfig", "load_config", "config_from_dict"]


def config_from_dict(data: dict[str, Any], file: str | None = None,
                     template_dirs: list[Path] | None = None) -> PipelineConfig:
    kind = data.get("kind", "PipelineConfig")
    if kind == "RunConfig":
        cfg = compile_run_config(parse_model(RunConfig, data, file), file, template_dirs)
    elif kind == "PipelineConfig":
        cfg = parse_model(PipelineConfig, data, file)
    elif kind == "BuiltinTemplate":
        raise ConfigError("a BuiltinTemplate cannot be run directly", file=file, path="kind",
                          fix="run a RunConfig with base_task: builtin/<name>, or `gage init <name>` to make one")
    else:
        raise ConfigError(f"unknown kind '{kind}'", file=file, path="kind",
                          fix="use PipelineConfig or RunConfig")
    return resolve_references(cfg, file)


def load_config(path: str | Path, template_dirs: list[Path] | None = None) -> PipelineConfig:
    return config_from_dict(read_yaml(path), str(path), template_dirs)

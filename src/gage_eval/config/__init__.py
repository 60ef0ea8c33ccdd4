"""Configuration: pydantic models, loading with path-precise errors, templates and references."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from gage_eval.config.loading import parse_model, read_yaml
from gage_eval.config.models import BuiltinTemplate, PipelineConfig, RunConfig
from gage_eval.config.paths import check_dataset_paths, surely_used_datasets
from gage_eval.config.references import resolve_references
from gage_eval.config.templates import compile_run_config
from gage_eval.errors import ConfigError, close_match_hint

__all__ = ["BuiltinTemplate", "PipelineConfig", "RunConfig", "check_dataset_paths", "config_from_dict", "load_config"]


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
                          fix=close_match_hint(str(kind), ["PipelineConfig", "RunConfig"], label="runnable kinds"))
    return resolve_references(cfg, file)


def load_config(path: str | Path, template_dirs: list[Path] | None = None) -> PipelineConfig:
    """Load, check and resolve a config file. Local data files of the datasets a run will surely read must exist,
    so a wrong path fails here, naming the config file, instead of after the run has started."""
    cfg = config_from_dict(read_yaml(path), str(path), template_dirs)
    check_dataset_paths(cfg, str(path), Path(path).resolve().parent, only=surely_used_datasets(cfg))
    return cfg

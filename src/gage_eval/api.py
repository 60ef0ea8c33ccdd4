"""Python API: `gage_eval.run(config | path | dict, **overrides) -> RunResult`."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gage_eval.config import config_from_dict, load_config
from gage_eval.config.models import PipelineConfig
from gage_eval.engine import event_loop
from gage_eval.engine.runtime import RunResult, Runtime
from gage_eval.engine.settings import RunSettings, settings_from_env_and_flags


def referenced_secrets(cfg: PipelineConfig, environ: dict[str, str] | None = None) -> dict[str, str]:
    """Snapshot only the environment variables the config names as api_key_env."""
    environ = dict(os.environ) if environ is None else environ
    names = {b.config.get("api_key_env") for b in cfg.backends}
    names |= {a.backend.config.get("api_key_env") for a in cfg.role_adapters if a.backend}
    return {n: environ[n] for n in names if n and n in environ}


def prepare(config: PipelineConfig | str | Path | dict[str, Any], settings: RunSettings | None = None,
            **overrides: Any) -> tuple[PipelineConfig, RunSettings]:
    base_dir = None
    if isinstance(config, (str, Path)):
        base_dir = Path(config).resolve().parent
        cfg = load_config(config)
    elif isinstance(config, dict):
        cfg = config_from_dict(config)
    else:
        cfg = config
    if settings is None:
        settings = settings_from_env_and_flags({"base_dir": base_dir, **overrides})
    if not settings.secrets:
        settings = settings.model_copy(update={"secrets": referenced_secrets(cfg)})
    return cfg, settings


async def arun(config: PipelineConfig | str | Path | dict[str, Any], settings: RunSettings | None = None,
               **overrides: Any) -> RunResult:
    cfg, settings = prepare(config, settings, **overrides)
    return await Runtime(cfg, settings).run()


def run(config: PipelineConfig | str | Path | dict[str, Any], settings: RunSettings | None = None,
        **overrides: Any) -> RunResult:
    """Run an evaluation. `overrides` are RunSettings fields (run_id, output_dir, concurrency, max_samples...)."""
    return event_loop.run(arun(config, settings, **overrides))

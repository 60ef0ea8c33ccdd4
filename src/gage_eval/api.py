"""Python API: `gage_eval.run(config | path | dict, **overrides) -> RunResult`."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gage_eval.config import config_from_dict, load_config
from gage_eval.config.models import PipelineConfig
from gage_eval.config.quick import QuickTask
from gage_eval.errors import GageError
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


def run_task(task: dict[str, Any] | QuickTask, **overrides: Any) -> RunResult:
    """Quick mode with EvalScope's TaskConfig field names, e.g.
    ``run_task({"model": "path/to/ckpt", "datasets": ["gsm8k"], "limit": 10})`` — the same compilation as
    `gage eval`, so both give the same PipelineConfig."""
    from gage_eval.config.quick import API_KEY_ENV, compile_quick, quick_task

    from gage_eval.config.paths import check_dataset_paths
    from gage_eval.config.quick_errors import quick_mode_error

    quick = task if isinstance(task, QuickTask) else quick_task(task)
    pipeline = compile_quick(quick)
    cfg = config_from_dict(pipeline)
    flags: dict[str, Any] = {"output_dir": quick.work_dir, "run_id": quick.run_id, "use_cache": bool(quick.use_cache)}
    flags.update({k: v for k, v in overrides.items() if v is not None})
    settings = settings_from_env_and_flags({k: v for k, v in flags.items() if v is not None})
    secrets = referenced_secrets(cfg)
    if quick.api_key is not None:
        secrets[API_KEY_ENV] = quick.api_key.get_secret_value()
    try:
        check_dataset_paths(cfg)  # a missing local copy is reported before a run directory is made
        return run(cfg, settings.model_copy(update={"secrets": secrets}))
    except GageError as exc:
        # The dataset layer speaks of config paths; quick-mode users wrote options.
        raise quick_mode_error(exc, pipeline, quick.dataset_args, quick.dataset_dir) from None


def run(config: PipelineConfig | str | Path | dict[str, Any], settings: RunSettings | None = None,
        **overrides: Any) -> RunResult:
    """Run an evaluation. `overrides` are RunSettings fields (run_id, output_dir, concurrency, max_samples...)."""
    return event_loop.run(arun(config, settings, **overrides))

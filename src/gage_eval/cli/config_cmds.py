"""`gage validate`, `gage schema`, `gage init`, `gage distill`."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
import yaml

from gage_eval.config import config_from_dict
from gage_eval.config.loading import read_yaml
from gage_eval.config.models import BuiltinTemplate, PipelineConfig, RunConfig
from gage_eval.config.paths import check_dataset_paths
from gage_eval.config.templates import distill, init_config, load_template
from gage_eval.errors import ConfigError, attach_config_file

_SCHEMAS = {"pipeline": PipelineConfig, "run": RunConfig, "template": BuiltinTemplate}


def validate_file(config: Path, template_dirs: list[Path] | None = None) -> str:
    with attach_config_file(config):
        return _validate(config, template_dirs)


def _load(config: Path, template_dirs: list[Path] | None = None) -> tuple[PipelineConfig, str]:
    """The pipeline a config file describes; a BuiltinTemplate is checked as its definition."""
    data = read_yaml(config)
    if data.get("kind") != "BuiltinTemplate":
        return config_from_dict(data, str(config), template_dirs), ""
    template = load_template(config)
    try:
        cfg = config_from_dict({"kind": "PipelineConfig", **template.definition}, str(config))
    except ConfigError as exc:
        exc.path = f"definition.{exc.path}" if exc.path else "definition"
        raise
    return cfg, f"template {template.metadata.name} {template.metadata.version}, "


def _validate(config: Path, template_dirs: list[Path] | None = None) -> str:
    cfg, what = _load(config, template_dirs)
    check_dataset_paths(cfg, str(config), config.resolve().parent)
    from gage_eval.engine.build import (
        build_adapters,
        build_callers,
        build_prompts,
        plan_tasks,
    )
    from gage_eval.engine.settings import RunSettings
    from gage_eval.roles.base import RoleResources

    # Resolve registry names and build (without I/O) everything a run would build, so a typo in a
    # metric or backend type fails here and not an hour into the run.
    settings = RunSettings()
    plans = plan_tasks(cfg, settings)
    from gage_eval.serving.engine_hook import placeholder_endpoints

    endpoints = placeholder_endpoints(cfg, settings)  # launched servers: checked, not started
    callers = build_callers(cfg, settings.model_copy(update={"secrets": _AnyEnv()}), None, endpoints)
    build_adapters(cfg, RoleResources(callers, build_prompts(cfg)))
    from gage_eval.datasets import build_loader

    for plan in plans:
        build_loader(plan.dataset, config.resolve().parent, plan.dataset_path).check()
    return f"{config}: ok ({what}{len(plans)} task(s): {', '.join(p.task_id for p in plans)})"


class _AnyEnv(dict):
    """During validation an api_key_env need not be set: any name resolves to a placeholder."""

    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: str) -> str:
        return "validation-placeholder"


def do_init(name: str, mode: str, output: Path | None, template_dirs: list[Path] | None = None) -> Path:
    """Write config/run_configs/<name>_run.yaml or config/custom/<name>_pipeline.yaml (or `output`)."""
    data = init_config(name, mode, template_dirs)
    folder = "run_configs" if mode == "run-config" else "custom"
    target = output or Path("config") / folder / f"{name}_{mode.split('-')[0]}.yaml"
    if target.exists():
        raise ConfigError(f"{target} already exists", path="--output", fix="choose another --output or delete the file")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return target


def do_distill(config: Path, name: str, out_root: Path | None = None) -> Path:
    """Freeze a PipelineConfig into <out_root or ./config/builtin_templates>/<name>/v<N+1>.yaml."""
    data = read_yaml(config)
    if data.get("kind", "PipelineConfig") != "PipelineConfig":
        raise ConfigError("only a PipelineConfig can be distilled", file=str(config), path="kind",
                          fix="pass the PipelineConfig the template should freeze")
    config_from_dict(data, str(config))  # schema and references must hold before a template is frozen
    return distill(data, name, out_root or Path("config") / "builtin_templates")


def register(app: typer.Typer) -> None:
    @app.command("validate")
    def validate(configs: list[Path] = typer.Argument(..., help="config files to check")) -> None:
        """Check configs (schema, references, registry names, digests) without running; every file is checked and
        each bad one reported, and the exit status is non-zero when any is bad."""
        from gage_eval.cli.app import report_error
        from gage_eval.errors import GageError

        codes = []
        for config in configs:
            try:
                typer.echo(validate_file(config))
            except GageError as exc:
                codes.append(report_error(exc))
        if codes:
            if len(configs) > 1:
                typer.secho(f"{len(codes)} of {len(configs)} config(s) invalid", fg=typer.colors.RED, err=True)
            raise typer.Exit(codes[0])

    @app.command("schema")
    def schema(kind: str = typer.Argument("pipeline", help="pipeline | run | template")) -> None:
        """Print the JSON Schema of a config kind."""
        if kind not in _SCHEMAS:
            raise ConfigError(f"unknown schema '{kind}'", path="KIND", fix="use pipeline, run or template")
        typer.echo(json.dumps(_SCHEMAS[kind].model_json_schema(by_alias=True), indent=2))

    @app.command("init")
    def init(name: str = typer.Argument(..., help="builtin template name"),
             mode: str = typer.Option("run-config", "--mode", "--init-mode", help="run-config | pipeline-config"),
             output: Optional[Path] = typer.Option(None, "--output", "-o")) -> None:
        """Write a RunConfig or PipelineConfig from a builtin template."""
        target = do_init(name, mode, output)
        typer.echo(f"wrote {target}\nnext: gage validate {target} && gage run {target}")

    @app.command("distill")
    def distill_cmd(config: Path = typer.Argument(...),
                    builtin_name: str = typer.Option(..., "--builtin-name", "--name"),
                    out_root: Optional[Path] = typer.Option(None, "--templates-dir",
                                                            help="default: ./config/builtin_templates")) -> None:
        """Freeze a PipelineConfig into a versioned BuiltinTemplate with its digest."""
        typer.echo(f"wrote {do_distill(config, builtin_name, out_root)}")

"""`gage support inspect | design | implement | status`: turn a dataset into a project benchmark."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

PROJECT_HELP = "the project the benchmark goes into (default: the current directory)"
MODEL_HELP = ("a model to propose / write it: an OpenAI-compatible URL (with --model-id), a served model name (with "
              "--api-url), a checkpoint folder or a backend type, as in `gage eval --model`")
# The model options design and implement share.
ApiUrl = Annotated[Optional[str], typer.Option("--api-url", help="OpenAI-compatible base URL (…/v1)")]
ModelId = Annotated[Optional[str], typer.Option("--model-id", help="served model name when --model is a URL")]
ModelArgs = Annotated[Optional[str], typer.Option("--model-args", help="backend settings, k=v,... or JSON")]
ApiKeyEnv = Annotated[Optional[str], typer.Option("--api-key-env", help="variable holding the API key")]
ProjectDir = Annotated[Optional[Path], typer.Option("--project-dir", help=PROJECT_HELP)]


def _model(model: str | None, api_url: str | None, model_id: str | None, model_args: str | None,
           api_key_env: str | None) -> Any:
    if model is None:
        return None
    from gage_eval.config.quick import parse_kv
    from gage_eval.errors import ConfigError
    from gage_eval.support.llm import ModelSpec, SupportModel

    secrets = {}
    if api_key_env:  # read here, at the CLI edge; the backend gets it through the secrets mechanism
        if api_key_env not in os.environ:
            raise ConfigError(f"environment variable {api_key_env} (--api-key-env) is not set", path="--api-key-env",
                              fix=f"export {api_key_env}=<your key>")
        secrets[api_key_env] = os.environ[api_key_env]
    return SupportModel(ModelSpec(model, api_url, model_id, parse_kv(model_args, "--model-args"), api_key_env,
                                  secrets))


def _print_changes(result: Any) -> None:
    for change in result.changes:
        typer.echo(f"  {change.status:<9} {change.path}")
    for change in result.changes:
        if change.diff:
            typer.echo(change.diff.rstrip("\n"))


def register(app: typer.Typer) -> None:
    support = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                          help="Onboard a benchmark: inspect a dataset, design its mapping, implement it.")
    app.add_typer(support, name="support")

    @support.command("inspect")
    def inspect_cmd(
        dataset: str = typer.Argument(..., help="a local .jsonl/.parquet/.csv file or dataset folder, or a hub id"),
        subset: Optional[str] = typer.Option(None, "--subset", help="hub subset (config name)"),
        split: Optional[str] = typer.Option(None, "--split", help="split to read [default: test]"),
        slug: Optional[str] = typer.Option(None, "--slug", help="the benchmark's name [default: from the dataset]"),
        max_samples: int = typer.Option(50, "--max-samples", help="records to read"),
        trust_remote_code: bool = typer.Option(False, "--trust-remote-code",
                                               help="let a hub dataset run its loading script (off by default)"),
        project_dir: ProjectDir = None,
    ) -> None:
        """Read a sample, infer the schema and task type, write dev_docs/<slug>/{meta,sample,schema}.json."""
        from gage_eval.support.inspection import inspect_dataset, summary_lines
        from gage_eval.support.project import Project

        ins = inspect_dataset(Project.at(project_dir), dataset, slug=slug, subset=subset, split=split,
                              max_samples=max_samples, trust_remote_code=trust_remote_code)
        typer.echo("\n".join(summary_lines(ins)))

    @support.command("design")
    def design_cmd(
        slug: str = typer.Argument(..., help="an inspected slug (`gage support status`)"),
        force: bool = typer.Option(False, "--force", help="overwrite an existing design.md"),
        model: Optional[str] = typer.Option(None, "--model", help=MODEL_HELP),
        api_url: ApiUrl = None, model_id: ModelId = None, model_args: ModelArgs = None, api_key_env: ApiKeyEnv = None,
        project_dir: ProjectDir = None,
    ) -> None:
        """Write dev_docs/<slug>/design.md: its ```yaml support_config block is what implement generates from."""
        from gage_eval.support.design import design
        from gage_eval.support.project import Project

        project = Project.at(project_dir)
        result = design(project, slug, force=force, model=_model(model, api_url, model_id, model_args, api_key_env))
        typer.echo(f"wrote {project.rel(result.path)} (proposed by {result.proposed_by})")
        for item in result.config.get("confirm", []):
            typer.echo(f"  confirm: {item}")
        if result.problems:
            typer.secho(f"the block needs {len(result.problems)} fix(es) before implement (marked FIX in the "
                        "design)", fg=typer.colors.YELLOW, err=True)
        typer.echo(f"next: review it, then `gage support implement {slug}` (a dry run; --force writes)")

    @support.command("implement")
    def implement_cmd(
        slug: str = typer.Argument(..., help="a designed slug"),
        force: bool = typer.Option(False, "--force", help="write the files (default: a dry run printing the diff)"),
        allow_dirty: bool = typer.Option(False, "--allow-dirty",
                                         help="write even with uncommitted changes (they would mix with the generated "
                                              "ones) or over files support did not write"),
        no_verify: bool = typer.Option(False, "--no-verify", help="skip the design's tests.commands after writing"),
        model: Optional[str] = typer.Option(None, "--model", help=MODEL_HELP + "; its code is kept only when it "
                                                                  "compiles, imports and passes the generated test"),
        api_url: ApiUrl = None, model_id: ModelId = None, model_args: ModelArgs = None, api_key_env: ApiKeyEnv = None,
        project_dir: ProjectDir = None,
    ) -> None:
        """Generate gage_benchmarks/<slug>/ (preprocessor, template, README), configs and a test; verify them."""
        from gage_eval.support.implement import implement
        from gage_eval.support.project import Project

        def show(check: Any) -> None:
            mark = "ok" if check.ok else f"FAILED (exit {check.code})"
            typer.echo(f"  {mark:<18} {check.command}  [{check.seconds:.1f} s]")
            if not check.ok:
                typer.echo("    " + check.tail.replace("\n", "\n    "))

        project = Project.at(project_dir)
        result = implement(project, slug, force=force, allow_dirty=allow_dirty, verify=not no_verify,
                           model=_model(model, api_url, model_id, model_args, api_key_env),
                           on_command=show if force else None)
        if not result.written:
            typer.echo(f"dry run (code from {result.code_from}); files under {project.root}:")
            _print_changes(result)
            typer.echo("nothing was written: rerun with --force to write, then validate and run 5 samples")
        else:
            count = {s: sum(c.status == s for c in result.changes) for s in ("new", "changed", "removed", "unchanged")}
            typer.echo(f"wrote {count['new'] + count['changed']} file(s) (code from {result.code_from}); "
                       + ", ".join(f"{n} {s}" for s, n in count.items() if n and s != "new"))
        for item in result.confirm:
            typer.echo(f"  confirm: {item}")
        if result.written and not result.ok:
            typer.secho(f"{sum(not c.ok for c in result.checks)} check(s) failed (above); fix the design or the "
                        "generated code and rerun", fg=typer.colors.RED, err=True)
            raise typer.Exit(1)
        if result.written and result.checks:
            typer.echo(f"all {len(result.checks)} checks passed; run it: gage eval --model NAME --api-url URL "
                       f"--datasets {slug}")

    @support.command("status")
    def status_cmd(project_dir: ProjectDir = None) -> None:
        """Which slugs are inspected, designed, implemented and verified."""
        from gage_eval.support.project import Project
        from gage_eval.support.status import project_status

        project = Project.at(project_dir)
        rows = project_status(project)
        if not rows:
            typer.echo(f"no benchmarks under {project.root} yet: start with `gage support inspect DATASET`")
            return
        for row in rows:
            typer.echo(f"{row.slug}\n  inspected:   {row.inspected}\n  designed:    {row.designed}\n"
                       f"  implemented: {row.implemented}\n  verified:    {row.verified}")

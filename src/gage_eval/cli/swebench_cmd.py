"""`gage swebench judge PREDICTIONS`: judge SWE-bench predictions made elsewhere (the official format:
instance_id, model_name_or_path, model_patch) with the same judges and artifacts as a `gage eval` run."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Optional

import typer

from gage_eval.errors import ConfigError


def judge_pipeline(predictions: Path, benchmark: str, local_path: Optional[str], runner: str,
                   repo_mirror: Optional[str], timeout_s: float, model_name: str) -> dict[str, Any]:
    from gage_eval.config.templates import find_template, load_template

    if not benchmark.startswith("swebench_"):
        raise ConfigError(f"'{benchmark}' is not a SWE-bench benchmark", path="--benchmark",
                          fix="use swebench_lite, swebench_verified or swebench_pro")
    definition = copy.deepcopy(load_template(find_template(benchmark, path="--benchmark")).definition)
    ds = definition["datasets"][0]
    ds.setdefault("params", {})["preprocess_kwargs"] = {"predictions": str(predictions)}
    if local_path:
        ds["params"]["path"] = local_path
    judge = next(a for a in definition["role_adapters"] if a["adapter_id"] == "judge")
    impl = {"local": "swebench_local", "docker": "swebench_docker"}[runner]
    params: dict[str, Any] = {"timeout_s": timeout_s}
    if runner == "local" and repo_mirror:
        params["repo_mirror"] = repo_mirror
    if runner == "docker":
        params["model_name"] = model_name
    judge["params"] = {"implementation": impl, "implementation_params": params}
    definition["role_adapters"] = [judge]
    definition["backends"] = []
    definition["custom"]["steps"] = [{"step": "judge", "adapter_id": "judge"}, {"step": "auto_eval"}]
    for gen in definition.get("summary_generators", []):
        if gen["name"] == "swebench_report":
            gen["params"]["model_name"] = model_name
    definition["metadata"]["name"] = f"{benchmark}_judge"
    return {"kind": "PipelineConfig", **definition}


def register(app: typer.Typer) -> None:
    swebench = typer.Typer(help="SWE-bench tools.", no_args_is_help=True, rich_markup_mode=None)
    app.add_typer(swebench, name="swebench")

    @swebench.command("judge")
    def judge(
        predictions: Path = typer.Argument(..., help="predictions.jsonl in SWE-bench's format"),
        benchmark: str = typer.Option("swebench_lite", "--benchmark", help="swebench_lite | swebench_verified | "
                                      "swebench_pro (its hub dataset, or --local-path)"),
        local_path: Optional[str] = typer.Option(None, "--local-path", help="local copy of the instances (jsonl, "
                                                 "parquet or a save_to_disk folder)"),
        runner: str = typer.Option("docker", "--runner", help="docker (the official harness) | local (tests in "
                                   "this machine's virtual environment)"),
        repo_mirror: Optional[str] = typer.Option(None, "--repo-mirror", help="folder of the repositories "
                                                  "(<owner>__<name>), for --runner local"),
        timeout: float = typer.Option(900.0, "--timeout", help="seconds per instance's tests"),
        model_name: str = typer.Option("gage", "--model-name", help="model_name_or_path for the reports"),
        output_dir: Path = typer.Option(Path("runs"), "--output-dir"),
        run_id: Optional[str] = typer.Option(None, "--run-id"),
        concurrency: int = typer.Option(2, "--concurrency", min=1),
    ) -> None:
        """Judge predictions made elsewhere; writes a run directory (samples, summary, per-instance logs)."""
        from gage_eval.api import run
        from gage_eval.cli.exit_codes import exit_code_for

        if runner not in ("docker", "local"):
            raise ConfigError(f"unknown runner '{runner}'", path="--runner", fix="use docker or local")
        pipeline = judge_pipeline(predictions, benchmark, local_path, runner, repo_mirror, timeout, model_name)
        result = run(pipeline, output_dir=output_dir, run_id=run_id, concurrency=concurrency)
        section = (result.summary.get("summary_generators") or {})
        report = next((v for k, v in section.items() if k.startswith("swebench_report")), {})
        typer.echo(f"resolved {report.get('resolved', 0)}/{report.get('instances', 0)} -> {result.run_dir}")
        raise typer.Exit(exit_code_for(result))

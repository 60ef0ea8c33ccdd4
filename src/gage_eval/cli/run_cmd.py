"""`gage run CONFIG`: run a PipelineConfig or RunConfig."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from gage_eval.cli.exit_codes import exit_code_for
from gage_eval.cli.failure_table import print_failures
from gage_eval.errors import RunInterrupted, attach_config_file

MAX_FAILURE_RATE_HELP = ("fraction of failed samples (0-1) above which a finished run exits with code 3 "
                         "[env GAGE_EVAL_MAX_FAILURE_RATE; default 0: any failed sample]")
NO_PREFLIGHT_HELP = "do not check HTTP backends (connect, /v1/models) before the first sample"
ONLY_SAMPLES_HELP = ("rerun only the sample ids listed in FILE (what `gage triage RUN_DIR` writes, or one id per line), "
                     "into this run's --run-id; summary.json links the source run")
WORKERS_HELP = ("distributed run: N worker processes on this machine (or N Ray actors with --ray-address), "
                "each running --concurrency samples at a time; the driver alone writes the run directory")
RAY_ADDRESS_HELP = "run the samples on Ray: local (a cluster for this run) | auto | ray://HOST:10001 | HOST:6379"

if TYPE_CHECKING:
    from gage_eval.engine.runtime import RunResult


def execute_run(config: Path, flags: dict[str, Any], adjust: Callable[[Any], Any] | None = None) -> RunResult:
    """Shared by `gage run`, `gage arena play` and run.py: build settings at the edge, run, print where artifacts
    went. `adjust` may change the loaded config first (`gage arena play` turns the board page on)."""
    # Imported here so that every other `gage` command starts without loading the engine.
    from gage_eval.api import prepare
    from gage_eval.engine import event_loop
    from gage_eval.engine.runtime import Runtime
    from gage_eval.engine.settings import settings_from_env_and_flags

    replay_from = flags.pop("replay_from", None)
    settings = settings_from_env_and_flags({**flags, "base_dir": config.resolve().parent})
    cfg, settings = prepare(config, settings)
    if replay_from is not None:
        from gage_eval.config.models import ReplaySpec

        cfg = cfg.model_copy(update={"replay": ReplaySpec(run_dir=str(Path(replay_from).resolve()))})
    if adjust is not None:
        with attach_config_file(config):
            cfg = adjust(cfg)
    try:
        with attach_config_file(config):
            result = event_loop.run(Runtime(cfg, settings).run())
    except KeyboardInterrupt:
        raise RunInterrupted() from None
    print_result(result)
    return result


def print_result(result: RunResult) -> None:
    from gage_eval.report.results_table import run_results_text

    s = result.summary
    typer.echo(f"run {result.run_id}: {result.status}, {s['sample_count']} samples, "
               f"{s['failures']['total']} failed -> {result.run_dir}")
    selected = s["run"].get("only_samples")
    if selected:
        typer.echo(f"  only the listed samples: {selected['found']} of {selected['requested']} found"
                   + (f" (rerun of {selected['rerun_of']})" if selected.get("rerun_of") else ""))
        if selected["missing"]:
            typer.secho(f"  not in the dataset: {', '.join(selected['missing'])}", fg=typer.colors.YELLOW, err=True)
    typer.echo(run_results_text(result.run_dir, s))  # the lm-eval style results table (also results.md)
    sections = s.get("summary_generators") or {}
    for key, lc in sections.items():
        if key.startswith("alpaca_eval_lc") and lc.get("length_controlled_winrate") is not None:
            typer.echo(f"  AlpacaEval: win rate {lc['win_rate']:.2f} ± {lc['standard_error']:.2f}, length-controlled "
                       f"{lc['length_controlled_winrate']:.2f} ± {lc['lc_standard_error']:.2f} ({lc['glm']})")
    unparsed = sections.get("unparsed_answers") or {}
    if unparsed:
        typer.echo("  unparsed answers (scored 0 or left out, see summary.json): "
                   + ", ".join(f"{k}: {n}" for k, n in unparsed.items()))
    if any(key.startswith("game_arena") for key in sections):
        from gage_eval.games.play import print_game_tables

        print_game_tables(s)
    print_failures(s)  # last, so the terminal ends with why anything failed


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        config: Path = typer.Argument(..., help="PipelineConfig or RunConfig YAML"),
        output_dir: Optional[Path] = typer.Option(None, "--output-dir", help="output root [env GAGE_EVAL_SAVE_DIR]"),
        run_id: Optional[str] = typer.Option(None, "--run-id", help="fixed run id; rerunning it resumes"),
        dataset_id: Optional[str] = typer.Option(None, "--dataset-id", help="dataset for single-task runs"),
        concurrency: Optional[int] = typer.Option(None, "--concurrency", help="[env GAGE_EVAL_THREADS]"),
        max_samples: Optional[float] = typer.Option(None, "--max-samples", help="N >= 1, or a fraction 0 < x < 1 of each dataset [env GAGE_EVAL_MAX_SAMPLES]"),
        prefetch_factor: Optional[int] = typer.Option(None, "--prefetch-factor"),
        max_inflight: Optional[int] = typer.Option(None, "--max-inflight"),
        failure_policy: Optional[str] = typer.Option(None, "--failure-policy",
                                                     help="fail_fast | graceful | best_effort"),
        use_cache: bool = typer.Option(False, "--use-cache", help="serve repeated requests from the response cache"),
        progress: Optional[str] = typer.Option(None, "--progress", help="auto | rich | plain | off"),
        gpus: Optional[int] = typer.Option(None, "--gpus"),
        cpus: Optional[int] = typer.Option(None, "--cpus"),
        model_path: Optional[str] = typer.Option(None, "--model-path", help="override backends' model_path"),
        sample_events: bool = typer.Option(False, "--sample-events", help="emit one event per finished sample"),
        metrics_port: Optional[int] = typer.Option(None, "--metrics-port",
                                                   help="serve Prometheus /metrics on 127.0.0.1:PORT during the run"),
        max_failure_rate: Optional[float] = typer.Option(None, "--max-failure-rate", help=MAX_FAILURE_RATE_HELP),
        no_preflight: bool = typer.Option(False, "--no-preflight", help=NO_PREFLIGHT_HELP),
        replay_from: Optional[Path] = typer.Option(None, "--replay-from", help="take the model's answers "
                                                   "(inference steps) from this earlier run directory instead of "
                                                   "calling the model; judges and metrics run as usual"),
        only_samples: Optional[Path] = typer.Option(None, "--only-samples", help=ONLY_SAMPLES_HELP),
        workers: Optional[int] = typer.Option(None, "--workers", help=WORKERS_HELP),
        ray_address: Optional[str] = typer.Option(None, "--ray-address", help=RAY_ADDRESS_HELP),
    ) -> None:
        """Run an evaluation and write events.jsonl, samples.jsonl and summary.json."""
        result = execute_run(config, {
            "output_dir": output_dir, "run_id": run_id, "dataset_id": dataset_id, "concurrency": concurrency,
            "max_samples": max_samples, "prefetch_factor": prefetch_factor, "max_inflight": max_inflight,
            "failure_policy": failure_policy, "use_cache": use_cache or None, "progress": progress,
            "gpus": gpus, "cpus": cpus, "model_path": model_path, "sample_events": sample_events or None,
            "metrics_port": metrics_port, "max_failure_rate": max_failure_rate,
            "preflight": False if no_preflight else None, "replay_from": replay_from,
            "only_samples": only_samples, "workers": workers, "ray_address": ray_address})
        raise typer.Exit(exit_code_for(result))

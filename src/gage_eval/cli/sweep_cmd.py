"""`gage sweep MODEL_INPUT`: every checkpoint of a training run on IFEval, TruthfulQA, AlpacaEval 2 and LiveBench,
with the leaderboard and the score-vs-step plot."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

import typer

from gage_eval.errors import ConfigError, RunInterrupted


def _models(opts: Any) -> list[Any]:
    from gage_eval.sweep.models import SweepModel, checkpoint_step, discover, safe_name

    if opts.model_input:
        return discover(opts.model_input)
    seen: set[str] = set()
    out = []
    for i, entry in enumerate(opts.models):
        name = safe_name(entry.id)
        if name in seen:
            raise ConfigError(f"model id '{entry.id}' appears twice", path=f"models[{i}].id",
                              fix="give every model its own id (it names its output folders)")
        seen.add(name)
        out.append(SweepModel(name, entry.step if entry.step is not None else checkpoint_step(entry.id),
                              api_base=entry.api_base.rstrip("/"), api_name=entry.api_name or entry.id,
                              api_key_env=entry.api_key_env, loglikelihood=entry.loglikelihood))
    return out


def _apply_benchmark_flags(opts: Any, dataset_args: dict[str, Any], release: str | None,
                           categories: str | None) -> list[Any]:
    from gage_eval.sweep import benchmarks

    benches = [benchmarks.get(name) for name in opts.selected()]
    if not benches:
        raise ConfigError("no benchmark is selected", path="--benchmarks",
                          fix=f"choose from {', '.join(benchmarks.names())}")
    every = {t: n for n in benchmarks.names() for t in (*benchmarks.get(n).templates,
                                                       *benchmarks.get(n).loglikelihood_templates)}
    by_template = {t: b.name for b in benches for t in (*b.templates, *b.loglikelihood_templates)}
    for template, args in dataset_args.items():
        if template not in every:
            raise ConfigError(f"--dataset-args names '{template}', which no sweep benchmark runs",
                              path=f"--dataset-args.{template}", fix=f"known templates: {', '.join(every)}")
        if template not in by_template:
            continue  # its benchmark is not selected this time
        settings = opts.benchmarks[by_template[template]]
        settings.dataset_args[template] = {**settings.dataset_args.get(template, {}), **args}
    if "livebench" in opts.benchmarks:
        lb = opts.benchmarks["livebench"]
        if release:
            lb.release = release
        if categories:
            lb.categories = [c.strip() for c in categories.split(",") if c.strip()]
    return benches


def _print_outcome(state: dict[str, Any], root: Path) -> int:
    failed = [n for n, m in state.get("models", {}).items() if m.get("status") == "server_failed"]
    unit_failures = [f"{u['model']}/{u['benchmark']} {phase}: {u[phase].get('status')}"
                     for u in state.get("units", {}).values() for phase in ("generate", "evaluate")
                     if isinstance(u.get(phase), dict) and u[phase].get("status") in ("failed", "interrupted")]
    typer.echo((root / "leaderboard.md").read_text(encoding="utf-8") if (root / "leaderboard.md").exists() else "")
    typer.echo(f"sweep: {len(state.get('order', []))} models, {state.get('servers_started', 0)} servers started, "
               f"{state.get('wall_s', 0):.1f}s -> {root}")
    for name in failed:
        info = state["models"][name]
        typer.secho(f"  {name}: server failed: {str(info.get('error', '')).splitlines()[0]} (log: {info.get('log')})",
                    fg=typer.colors.RED, err=True)
    for line in unit_failures:
        typer.secho(f"  {line}", fg=typer.colors.RED, err=True)
    return 3 if failed or unit_failures else 0


def register(app: typer.Typer) -> None:
    @app.command("sweep")
    def sweep(
        model_input: Optional[str] = typer.Argument(None, help="a folder of checkpoints (each sub-folder holding a "
                                                    "model is one, ordered by the number in its name), a local "
                                                    "model folder, or a hub model id"),
        config: Optional[Path] = typer.Option(None, "--config", help="sweep.yaml: models[] (already-running "
                                              "servers: id, api_name, api_base, api_key_env), judge, benchmarks"),
        port: Optional[int] = typer.Option(None, "--port", help="port of each checkpoint's server [8001]"),
        gpu_mem: Optional[float] = typer.Option(None, "--gpu-mem", help="GPU memory fraction of the server [0.85]"),
        tp_size: Optional[int] = typer.Option(None, "--tp-size", help="tensor parallel size [1]"),
        benchmarks: Optional[str] = typer.Option(None, "--benchmarks", help="comma-separated "
                                                 "[ifeval,truthfulqa,alpacaeval,livebench]"),
        skip_existing: bool = typer.Option(False, "--skip-existing", help="skip every (model, benchmark, phase) "
                                           "whose run finished, even with failed samples or other settings"),
        phase: Optional[str] = typer.Option(None, "--phase", help="generate | evaluate | all [all]"),
        judge_api_base: Optional[str] = typer.Option(None, "--judge-api-base", help="OpenAI-compatible judge URL "
                                                     "(.../v1)"),
        judge_api_key_env: Optional[str] = typer.Option(None, "--judge-api-key-env", help="name of the environment "
                                                        "variable holding the judge's key (never written to disk)"),
        judge_model: Optional[str] = typer.Option(None, "--judge-model", help="the judge's model name"),
        serve: Optional[str] = typer.Option(None, "--serve", help="vllm | sglang | tgi | gage (CPU), or a command "
                                            "template with {model_path} and {port} [vllm]"),
        ready_timeout: Optional[float] = typer.Option(None, "--ready-timeout", help="seconds to wait for each "
                                                      "server [900]"),
        max_model_len: Optional[int] = typer.Option(None, "--max-model-len", help="the server's context length"),
        limit: Optional[int] = typer.Option(None, "--limit", help="the first N samples of each benchmark task"),
        concurrency: Optional[int] = typer.Option(None, "--concurrency", help="requests in flight per run"),
        output_dir: Optional[Path] = typer.Option(None, "--output-dir", help="[sweep_results]"),
        dataset_dir: Optional[str] = typer.Option(None, "--dataset-dir", help="local copies: DIR/<template> "
                                                  "(ifeval, truthfulqa_gen, alpaca_eval2, livebench, ...)"),
        dataset_args: Optional[str] = typer.Option(None, "--dataset-args", help="JSON {template: {local_path, ...}} "
                                                   "as gage eval takes it"),
        livebench_release: Optional[str] = typer.Option(None, "--livebench-release", help="LiveBench release "
                                                        "date (YYYY-MM-DD): questions released up to it"),
        livebench_categories: Optional[str] = typer.Option(None, "--livebench-categories", help="comma-separated "
                                                           "LiveBench categories [all six]"),
        generation_config: Optional[str] = typer.Option(None, "--generation-config", help="k=v,... or JSON for "
                                                        "every benchmark, e.g. max_new_tokens=512"),
        progress: Optional[str] = typer.Option(None, "--progress", help="auto | plain | off"),
    ) -> None:
        """Evaluate every checkpoint of a training run: leaderboard.csv/.md and the score-vs-step plot."""
        from gage_eval.config.quick import parse_kv
        from gage_eval.engine.settings import check_sample_limit
        from gage_eval.sweep.config import load_options
        from gage_eval.sweep.driver import run_sweep

        check_sample_limit(limit, "--limit")
        flags: dict[str, Any] = {
            "model_input": model_input, "serve.server": serve, "serve.port": port, "serve.gpu_mem": gpu_mem,
            "serve.tp_size": tp_size, "serve.ready_timeout_s": ready_timeout, "serve.max_model_len": max_model_len,
            "judge.api_base": judge_api_base, "judge.api_key_env": judge_api_key_env, "judge.model_name": judge_model,
            "benchmarks": [b.strip() for b in benchmarks.split(",") if b.strip()] if benchmarks else None,
            "skip_existing": skip_existing or None, "phase": phase, "limit": limit, "concurrency": concurrency,
            "output_dir": output_dir, "dataset_dir": dataset_dir, "progress": progress,
            "generation_config": parse_kv(generation_config, "--generation-config") or None}
        opts = load_options(config, flags)
        benches = _apply_benchmark_flags(opts, parse_kv(dataset_args, "--dataset-args"), livebench_release,
                                         livebench_categories)
        models = _models(opts)
        names = {m.api_key_env for m in models if m.api_key_env} | {opts.judge.api_key_env} - {None}
        secrets = {n: os.environ[n] for n in names if n and n in os.environ}  # read here, at the CLI edge only
        try:
            state = run_sweep(opts, models, benches, secrets)
        except KeyboardInterrupt:
            raise RunInterrupted() from None
        raise typer.Exit(_print_outcome(state, opts.output_dir))

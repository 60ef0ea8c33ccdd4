"""`gage arena`: judge models against each other from their earlier runs (or live backends) and rank them;
`gage arena play CONFIG`: play a game arena (games as samples, board page on 127.0.0.1, ratings at the end)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
import yaml

from gage_eval.errors import ConfigError, RunInterrupted


def _runs(values: list[str]) -> list[dict[str, Any]]:
    models = []
    for i, value in enumerate(values):
        name, sep, path = value.partition("=")
        if not sep:
            path, name = value, Path(value).name
        if not name or not path:
            raise ConfigError(f"--run '{value}' is not NAME=RUN_DIR", path=f"--run[{i}]",
                              fix="write --run mymodel=runs/mymodel_gsm8k (NAME= may be left out: the folder name)")
        models.append({"name": name, "run": path})
    return models


def arena_config(config: Optional[Path], flags: dict[str, Any]) -> Any:
    from gage_eval.arena.config import ArenaConfig
    from gage_eval.config.loading import parse_model, read_yaml

    data: dict[str, Any] = read_yaml(config) if config else {}
    if flags["runs"]:
        data["models"] = data.get("models", []) + _runs(flags["runs"])
    for key in ("mode", "baseline", "limit", "bootstrap_rounds", "seed", "concurrency"):
        if flags.get(key) is not None:
            data[key] = flags[key]
    if flags.get("allow_mismatch"):
        data["allow_mismatch"] = True
    judge = dict(data.get("judge") or {})
    if flags.get("judge_url"):
        backend = {"type": "openai_http", "config": {"base_url": flags["judge_url"],
                                                     "model": flags.get("judge_model") or "judge"}}
        if flags.get("judge_api_key_env"):
            backend["config"]["api_key_env"] = flags["judge_api_key_env"]
        judge["backend"] = backend
    if flags.get("human"):
        judge["human"] = True
        if flags.get("port") is not None:
            judge["port"] = flags["port"]
    for key in ("swap", "allow_tie"):
        if flags.get(key) is False:
            judge[key] = False
    data["judge"] = judge
    return parse_model(ArenaConfig, data, str(config) if config else None)


def register(app: typer.Typer) -> None:
    @app.command("arena")
    def arena(
        config: Optional[Path] = typer.Argument(None, help="ArenaConfig YAML (optional when --run flags are given)"),
        runs: list[str] = typer.Option([], "--run", help="NAME=RUN_DIR of an earlier run (repeat per model)"),
        mode: Optional[str] = typer.Option(None, "--mode", help="single | pairwise-baseline | pairwise-all"),
        baseline: Optional[str] = typer.Option(None, "--baseline", help="baseline model name"),
        judge_url: Optional[str] = typer.Option(None, "--judge-url", help="OpenAI-compatible base URL of the judge"),
        judge_model: Optional[str] = typer.Option(None, "--judge-model", help="judge model name"),
        judge_api_key_env: Optional[str] = typer.Option(None, "--judge-api-key-env"),
        human: bool = typer.Option(False, "--human", help="judge on a local web page instead of with a model"),
        port: Optional[int] = typer.Option(None, "--port", help="human review page port (0 = any free port)"),
        swap: bool = typer.Option(True, "--swap/--no-swap", help="judge both answer orders (position-bias control)"),
        allow_tie: bool = typer.Option(True, "--tie/--no-tie", help="let the judge declare a tie"),
        limit: Optional[int] = typer.Option(None, "--limit", help="questions to judge"),
        bootstrap_rounds: Optional[int] = typer.Option(None, "--bootstrap-rounds"),
        seed: Optional[int] = typer.Option(None, "--seed"),
        concurrency: Optional[int] = typer.Option(None, "--concurrency"),
        allow_mismatch: bool = typer.Option(False, "--allow-mismatch", help="judge runs whose questions differ"),
        output_dir: Path = typer.Option(Path("runs"), "--output-dir"),
        run_id: Optional[str] = typer.Option(None, "--run-id", help="fixed run id; rerunning it resumes"),
        use_cache: bool = typer.Option(False, "--use-cache", help="serve repeated judge calls from the cache"),
        progress: Optional[str] = typer.Option(None, "--progress"),
        dry_run: bool = typer.Option(False, "--dry-run", help="print the compiled judge pipeline and exit"),
    ) -> None:
        """Rank models with a judge: win/tie/loss matrix, Bradley-Terry and Elo ratings with 95% CIs.
        (`gage arena play CONFIG` plays a game arena instead: see `gage arena play --help`.)"""
        from gage_eval.arena.config import collect_outputs, compile_arena

        cfg = arena_config(config, {"runs": runs, "mode": mode, "baseline": baseline, "judge_url": judge_url,
                                    "judge_model": judge_model, "judge_api_key_env": judge_api_key_env,
                                    "human": human, "port": port, "swap": swap, "allow_tie": allow_tie,
                                    "limit": limit, "bootstrap_rounds": bootstrap_rounds, "seed": seed,
                                    "concurrency": concurrency, "allow_mismatch": allow_mismatch})
        from gage_eval.run_paths import check_run_id, ensure_writable_dir

        run_id = check_run_id(run_id) or (cfg.name if cfg.name.startswith("arena") else f"arena_{cfg.name}")
        run_dir = output_dir / run_id
        if not dry_run:  # the pairs file is written before the judge run starts: fail here, not halfway
            ensure_writable_dir(run_dir)
        overrides = {"use_cache": use_cache or None, "progress": progress}
        try:
            pipeline = compile_arena(cfg, run_dir, collect_outputs(cfg, run_dir, overrides))
            if dry_run:
                typer.echo(yaml.safe_dump(pipeline, sort_keys=False, allow_unicode=True))
                return
            from gage_eval.api import run

            result = run(pipeline, output_dir=output_dir, run_id=run_id,
                         **{k: v for k, v in overrides.items() if v is not None})
        except KeyboardInterrupt:
            raise RunInterrupted() from None
        print_leaderboard(result.summary, result.run_dir)
        from gage_eval.cli.exit_codes import exit_code_for
        from gage_eval.cli.failure_table import print_failures

        print_failures(result.summary)
        raise typer.Exit(exit_code_for(result))


    @app.command("arena-play", hidden=True)
    def arena_play(
        config: Path = typer.Argument(..., help="PipelineConfig with an arena step (role_type: arena)"),
        port: Optional[int] = typer.Option(None, "--port", help="board page port (0 = any free port)"),
        output_dir: Optional[Path] = typer.Option(None, "--output-dir"),
        run_id: Optional[str] = typer.Option(None, "--run-id", help="fixed run id; rerunning it resumes"),
        concurrency: Optional[int] = typer.Option(None, "--concurrency", help="games played at once"),
        max_samples: Optional[int] = typer.Option(None, "--max-samples", help="play only the first N games"),
        use_cache: bool = typer.Option(False, "--use-cache", help="serve repeated model calls from the cache"),
        progress: Optional[str] = typer.Option(None, "--progress"),
        stay: bool = typer.Option(True, "--stay/--no-stay", help="keep the board page open for replays after the "
                                                                 "last game, until Ctrl-C"),
    ) -> None:
        """gage arena play CONFIG: play the games of a game arena with the board page open (live boards, human
        moves by click, replays), then print the ratings table."""
        from gage_eval.games.play import play_config

        raise typer.Exit(play_config(config, port, stay, {
            "output_dir": output_dir, "run_id": run_id, "concurrency": concurrency, "max_samples": max_samples,
            "use_cache": use_cache or None, "progress": progress}))


def print_leaderboard(summary: dict[str, Any], run_dir: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    board = (summary.get("summary_generators") or {}).get("arena_leaderboard") or {}
    table = Table(title=f"arena ({board.get('mode')}) -> {run_dir}")
    rows = board.get("leaderboard") or []
    if board.get("mode") == "single":
        for col in ("rank", "model", "score", "95% CI", "n"):
            table.add_column(col)
        for r in rows:
            ci = f"[{r['ci_low']:.2f}, {r['ci_high']:.2f}]" if r.get("ci_low") is not None else "n/a"
            table.add_row(str(r["rank"]), r["model"], f"{r['score']:.3f}", ci, str(r["count"]))
    else:
        baseline = board.get("baseline")
        for col in ("rank", "model", "BT rating", "95% CI", "W/T/L", *(["win rate vs baseline"] if baseline else [])):
            table.add_column(col)
        for r in rows:
            vs = r.get("win_rate_vs_baseline")
            rated = r.get("rating") is not None
            table.add_row("-" if r["rank"] is None else str(r["rank"]), r["model"],
                          f"{r['rating']:.0f}" if rated else "insufficient data",
                          f"[{r['ci_low']:.0f}, {r['ci_high']:.0f}]" if rated else "-",
                          f"{r['wins']}/{r['ties']}/{r['losses']}",
                          *([("-" if vs is None else f"{vs:.3f}")] if baseline else []))
    if rows:
        Console().print(table)
    else:
        typer.secho(f"no ranking: {board.get('error') or board.get('note') or 'no judged battles'}", fg="yellow")
    for model, reason in (board.get("insufficient_data") or {}).items():
        typer.secho(f"insufficient data to rate {model}: {reason}", fg="yellow")
    if board.get("inconsistency_rate") is not None:
        typer.echo(f"position-swap inconsistency: {board['inconsistency_rate']:.3f} of "
                   f"{board['judged_both_orders']} pairs")
    if board.get("unparsed_verdicts"):
        typer.secho(f"unparsed verdicts: {board['unparsed_verdicts']} (left out of the ratings; the judge's raw text "
                    f"is in samples.jsonl)", fg="yellow")

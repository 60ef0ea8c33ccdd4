"""`gage arena play CONFIG`: run a game arena with its board page, print the ratings, keep the page for replays."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

from gage_eval.errors import ConfigError


def _with_board(cfg: Any, port: int | None, file: str) -> Any:
    arenas = [a for a in cfg.role_adapters if a.role_type == "arena"]
    if not arenas:
        raise ConfigError("the config has no game arena (no role adapter with role_type: arena)", file=file,
                          path="role_adapters", fix="`gage arena play` plays game configs such as "
                                                    "config/custom/tictactoe_human_vs_llm.yaml; use `gage run` here")
    for adapter in arenas:
        visualizer = dict(adapter.params.get("visualizer") or {})
        visualizer["enabled"] = True
        if port is not None:
            visualizer["port"] = port
        adapter.params["visualizer"] = visualizer
    return cfg


def play_config(config: Path, port: int | None, stay: bool, flags: dict[str, Any]) -> int:
    from gage_eval.cli.exit_codes import exit_code_for
    from gage_eval.cli.run_cmd import execute_run

    result = execute_run(config, flags, adjust=lambda cfg: _with_board(cfg, port, str(config)))
    if stay and result.status != "failed":
        _serve_replays(result.run_dir)
    return exit_code_for(result)


def print_game_tables(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    for key, section in (summary.get("summary_generators") or {}).items():
        if not key.startswith("game_arena") or not section.get("players"):
            continue
        ratings = {r["model"]: r for r in section.get("leaderboard") or []}
        table = Table(title=f"{section.get('game')}: {section['games']} games ({section['draws']} drawn)")
        for col in ("player", "type", "W/D/L", "score [95% CI]", "illegal / move", "forfeits", "BT rating [95% CI]"):
            table.add_column(col)
        for p in section["players"]:
            score = p["score"]
            ci = score.get("ci95") or [None, None]
            rate = p.get("illegal_move_rate")
            r = ratings.get(p["player"]) or {}
            rating = (f"{r['rating']:.0f} [{r['ci_low']:.0f}, {r['ci_high']:.0f}]" if r.get("rating") is not None
                      else "insufficient data" if r else "-")
            table.add_row(p["player"], p["type"], f"{p['wins']}/{p['draws']}/{p['losses']}",
                          f"{score['value']:.3f} [{ci[0]:.2f}, {ci[1]:.2f}]" if ci[0] is not None
                          else f"{score['value']:.3f}",
                          "-" if not rate or rate["value"] is None else f"{rate['value']:.3f} (n={rate['n']})",
                          str(p["forfeits"]), rating)
        Console().print(table)


def _serve_replays(run_dir: Path) -> None:
    from gage_eval.games.board import BoardServer
    from gage_eval.games.catalog import game_name
    from gage_eval.games.config import EnvironmentSpec
    from gage_eval.games.hub import BoardHub

    import orjson

    config = orjson.loads((run_dir / "config.json").read_bytes())  # the config as the run resolved it
    adapter = next(a for a in config["role_adapters"] if a["role_type"] == "arena")
    environment = EnvironmentSpec.model_validate(adapter["params"].get("environment") or {})
    visualizer = adapter["params"].get("visualizer") or {}
    hub = BoardHub(game_name(environment))
    port = int(visualizer.get("port", 8766))
    try:  # the port the run's page had (also when it was 0, any port): an open page reconnects by itself
        port = int((run_dir / "board.url").read_text().strip().rstrip("/").rsplit(":", 1)[1])
    except (OSError, ValueError, IndexError):
        pass
    server = BoardServer(hub, environment.model_dump(exclude_none=True), visualizer.get("host", "127.0.0.1"),
                         port, "visualizer", run_dir=run_dir)
    url = server.start()
    typer.echo(f"board page with replays of every game: {url}  (Ctrl-C to quit)")
    try:
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()

"""The board page: FastAPI on 127.0.0.1, uvicorn in a daemon thread (it never touches the run's event loop).

It draws the games of the run live (the page polls a version number), lets a person click legal moves in the
games where a human player is to move (the server checks each one again), shows each LLM move's raw answer and
refused tries, and replays any game move by move. The games live in the run, so a page reload continues them.
"""
from __future__ import annotations

import errno
import socket
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from gage_eval.errors import ConfigError
from gage_eval.games.hub import BoardHub
from gage_eval.view.background import BackgroundServer

_PAGE = Path(__file__).with_name("board_page.html")


class MoveBody(BaseModel):
    # Module level: FastAPI resolves the (postponed) annotation of the handler's body parameter by name.
    move: str


def _port_error(host: str, port: int, where: str, detail: str) -> ConfigError:
    return ConfigError(f"the board page cannot listen on {host}:{port}: {detail}", path=f"{where}.port",
                       fix="choose another visualizer.port (gage arena play --port N), or 0 for any free port")


def check_port(host: str, port: int, where: str) -> None:
    """Fail at validation when the page's port is taken (binding and releasing it at once)."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As uvicorn binds: a port left in TIME_WAIT by a server that just stopped is free, a listening one is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise _port_error(host, port, where, "the port is in use" if exc.errno == errno.EADDRINUSE
                              else str(exc)) from None


def create_board_app(hub: BoardHub, environment: dict[str, Any]) -> Any:
    from fastapi import FastAPI, HTTPException
    from fastapi.responses import HTMLResponse, Response

    from gage_eval.games.replay import replay_payload
    from gage_eval.report.standalone import asset

    app = FastAPI(title="gage game arena", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        return _PAGE.read_text(encoding="utf-8")

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/board.js")
    def board_js() -> Response:
        return Response(asset("board.js"), media_type="text/javascript")

    @app.get("/api/games")
    def games() -> dict[str, Any]:
        return hub.listing()

    @app.get("/api/games/{game_id}")
    def game(game_id: str) -> dict[str, Any]:
        snap = hub.snapshot(game_id)
        if snap is None:
            raise HTTPException(404, f"no game {game_id!r}")
        return snap

    @app.post("/api/games/{game_id}/move")
    def move(game_id: str, body: MoveBody) -> dict[str, Any]:
        refused = hub.submit(game_id, body.move)
        if refused is not None:
            raise HTTPException(409 if "turn" in refused or "no game" in refused else 422, refused)
        return {"ok": True}

    @app.get("/api/games/{game_id}/replay")
    def replay(game_id: str) -> dict[str, Any]:
        snap = hub.snapshot(game_id)
        if snap is None:
            raise HTTPException(404, f"no game {game_id!r}")
        result = snap["result"] or {}
        game = {"game": snap["game"], "moves": snap["log"], "players": [p["name"] for p in snap["players"]],
                "seats": [p["seat"] for p in snap["players"]], "winner": result.get("winner"),
                "reason": result.get("reason")}
        return replay_payload(game_id, game, environment)

    return app


class BoardServer(BackgroundServer):
    def __init__(self, hub: BoardHub, environment: dict[str, Any], host: str, port: int, where: str,
                 run_dir: Path | None = None) -> None:
        if run_dir is not None:
            _load_finished(hub, run_dir / "samples.jsonl")
        self.host, self.port, self.where = host, port, where
        super().__init__(create_board_app(hub, environment), host, port, "gage-game-board",
                         lambda _address: _port_error(host, port, where, "the server did not start"))

    def start(self, timeout_s: float = 10.0) -> str:
        check_port(self.host, self.port, self.where)
        return super().start(timeout_s)


def _load_finished(hub: BoardHub, samples: Path) -> None:
    from gage_eval.report.summary import iter_records

    for record in iter_records(samples):
        if record.get("status") == "ok":
            hub.load_finished(record)

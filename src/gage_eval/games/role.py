"""`role_type: arena`: plays the game a sample describes and returns its record as the model output.

The sample (one game of the schedule) names its players in seat order (`inputs.players`) and its seed. The role
is built once per run: environment checks, players (an LLM player's backend, an engine checked against the game,
a human on the board page) and, when enabled or when a human plays, the board page on 127.0.0.1.
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from gage_eval.config.loading import parse_model
from gage_eval.config.models import RoleAdapterSpec
from gage_eval.errors import ConfigError, close_match_hint
from gage_eval.games.catalog import env_factory, game_name
from gage_eval.games.config import ArenaParams
from gage_eval.games.engines import build_engine
from gage_eval.games.match import play_game
from gage_eval.games.parser import build_parser
from gage_eval.games.players import EnginePlayer, HumanPlayer, LLMPlayer, Player
from gage_eval.games.schedule import matchups
from gage_eval.registry import registry
from gage_eval.roles.base import RoleAdapter, RoleResources
from gage_eval.sample import Sample

log = logging.getLogger("gage_eval")


def player_backend_refs(spec: RoleAdapterSpec) -> list[str]:
    """Backends the arena's LLM players use: the engine builds their callers like any role's backend."""
    players = spec.params.get("players") if isinstance(spec.params.get("players"), list) else []
    return [p["backend_id"] for p in players if isinstance(p, dict) and isinstance(p.get("backend_id"), str)]


@registry.asset("roles", "arena", desc="game arena: plays one game per sample between llm, engine and human "
                "players (gomoku, tictactoe, connect_four, chess); the move log is the model output",
                tags=("games", "arena"))
class ArenaRole(RoleAdapter):
    role_type = "arena"
    backend_refs = staticmethod(player_backend_refs)

    def __init__(self, spec: RoleAdapterSpec, resources: RoleResources, config_path: str) -> None:
        super().__init__(spec, resources, config_path)
        where = f"{config_path}.params"
        self.params = params = parse_model(ArenaParams, spec.params, prefix=where)
        self.make_env = env_factory(params.environment, f"{where}.environment")
        probe = self.make_env()
        self.game = game_name(params.environment)
        names = [p.name for p in params.players]
        matchups(params.scheduler, names, f"{where}.scheduler")
        parser = build_parser(params.parser.impl, f"{where}.parser")
        self.hub = None
        self.server = None
        self.url: str | None = None
        wants_page = params.visualizer.enabled or any(p.type == "human" for p in params.players)
        if wants_page:
            from gage_eval.games.hub import BoardHub

            self.hub = BoardHub(self.game)
        self.players: dict[str, Player] = {}
        for i, p in enumerate(params.players):
            at = f"{where}.players[{i}]"
            if p.type == "llm":
                caller = resources.callers.get(p.backend_id or "")
                if caller is None:
                    known = sorted(k for k in resources.callers if not k.startswith("inline:"))
                    raise ConfigError(f"player '{p.name}' uses backend '{p.backend_id}', which is not declared",
                                      path=f"{at}.backend_id",
                                      fix=close_match_hint(p.backend_id or "", known, label="backends") if known else
                                      "declare it under backends: [{backend_id: ..., type: openai_http, config: ...}]")
                self.players[p.name] = LLMPlayer(p, caller, parser)
            elif p.type == "engine":
                self.players[p.name] = EnginePlayer(p, build_engine(p, probe, at))
            else:
                self.players[p.name] = HumanPlayer(p, self.hub)
        if wants_page:
            self._start_page(f"{where}.visualizer", resources.run_dir)

    def _start_page(self, where: str, run_dir: Any) -> None:
        from gage_eval.games.board import BoardServer, check_port

        vis = self.params.visualizer
        if run_dir is None:  # `gage validate`: check the port, serve nothing
            check_port(vis.host, vis.port, where)
            return
        environment = self.params.environment.model_dump(exclude_none=True)
        self.server = BoardServer(self.hub, environment, vis.host, vis.port, where, run_dir=Path(run_dir))
        self.url = self.server.start()
        Path(run_dir).mkdir(parents=True, exist_ok=True)
        (Path(run_dir) / "board.url").write_text(self.url + "\n", encoding="utf-8")
        log.warning("game board: %s", self.url)

    def _players_of(self, sample: Sample) -> list[Player]:
        names = sample.inputs.get("players")
        if not (isinstance(names, list) and len(names) == 2):
            raise ValueError(f"sample {sample.id} has no inputs.players [first, second]")
        unknown = [n for n in names if n not in self.players]
        if unknown:
            raise ValueError(f"sample {sample.id} names unknown player(s) {unknown}; the arena has "
                             f"{', '.join(self.players)}")
        return [self.players[n] for n in names]

    async def execute(self, payload: dict[str, Any]) -> dict[str, Any]:
        sample: Sample = payload["sample"]
        rules = next((o["rules"] for o in reversed(sample.support_outputs) if o.get("rules")), None)
        env = self.make_env()
        record = await play_game(sample.id, env, self._players_of(sample), seed=int(sample.inputs.get("seed", 0)),
                                 max_turns=self.params.scheduler.max_turns, hub=self.hub,
                                 move_delay_s=self.params.visualizer.move_delay_s, rules=rules)
        record["game"]["environment"] = self.params.environment.model_dump(exclude_none=True)
        record["game"]["arena"] = self.adapter_id
        return record

    async def aclose(self) -> None:
        for player in self.players.values():
            await asyncio.to_thread(player.close)
        if self.server is not None:
            await asyncio.to_thread(self.server.stop)


@registry.asset("context_impls", "game_rules", desc="support step of a game: the rules and the initial board of "
                "the sample's game", tags=("games",))
class GameRules:
    def __init__(self, **_: Any) -> None:
        self._factories: dict[str, Any] = {}

    def provide(self, payload: dict[str, Any]) -> dict[str, Any]:
        from gage_eval.games.config import EnvironmentSpec

        sample: Sample = payload["sample"]
        raw = sample.inputs.get("environment")
        if not isinstance(raw, dict):
            return {}
        key = repr(sorted(raw.items()))
        if key not in self._factories:
            self._factories[key] = env_factory(EnvironmentSpec.model_validate(raw), "environment")
        env = self._factories[key]()
        return {"rules": env.rules(), "initial_board": env.board_text(), "move_syntax": env.move_syntax}

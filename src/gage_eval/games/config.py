"""The arena role's params (role_type: arena): environment, players, scheduler, parser, visualizer.

Validated once when the role is built (`gage validate` and the start of `gage run`); game-specific checks
(unknown game, a board too small for the win length, an engine that does not play this game) name the exact
config path, e.g. ``role_adapters[1].params.environment.win_length``.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EnvironmentSpec(_Strict):
    game: str = Field(min_length=1)  # gomoku | tictactoe | connect_four | chess | package.module:Class
    board_size: int | None = Field(default=None, ge=1)  # gomoku (15)
    win_length: int | None = Field(default=None, ge=1)  # gomoku (5), connect_four (4)
    rows: int | None = Field(default=None, ge=1)  # connect_four (6)
    columns: int | None = Field(default=None, ge=1)  # connect_four (7)
    fen: str | None = None  # chess: the starting position
    coord_scheme: Literal["A1"] = "A1"  # column letter + row number from the bottom (H8)
    params: dict[str, Any] = Field(default_factory=dict)  # for a plugin environment (import path)


class PlayerSpec(_Strict):
    name: str = Field(min_length=1, pattern=r"^[\w.@+-]+$")
    type: Literal["llm", "engine", "human"]
    # llm
    backend_id: str | None = None
    generation: dict[str, Any] = Field(default_factory=lambda: {"temperature": 0, "max_tokens": 256})
    max_retries: int = Field(default=2, ge=0)
    fallback: Literal["random", "forfeit"] = "random"
    system_prompt: str | None = None
    show_legal_moves: bool = True
    # engine
    engine: str | None = None  # random | perfect | search | stockfish | package.module:Class
    depth: int | None = Field(default=None, ge=1)  # search / stockfish
    candidates: int | None = Field(default=None, ge=1)  # search: moves looked at per position on big boards
    path: str | None = None  # stockfish executable (default: `stockfish` on PATH)
    time_limit_s: float | None = Field(default=None, gt=0)  # stockfish
    skill_level: int | None = Field(default=None, ge=0, le=20)  # stockfish
    # human
    move_timeout_s: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _needs(self) -> PlayerSpec:
        if self.type == "llm" and not self.backend_id:
            raise ValueError(f"player '{self.name}' is an llm and needs backend_id (one of backends[].backend_id)")
        if self.type == "engine" and not self.engine:
            raise ValueError(f"player '{self.name}' is an engine and needs engine: random, perfect, search or "
                             "stockfish")
        return self


class SchedulerSpec(_Strict):
    type: Literal["turn"] = "turn"  # players move one after the other; one game's moves are sequential
    format: Literal["round_robin", "pairs"] = "round_robin"
    players: list[str] | None = None  # round_robin: who takes part (default: every player)
    pairs: list[tuple[str, str]] | None = None  # format pairs: [[a, b], ...]
    games_per_pair: int = Field(default=2, ge=1)
    alternate_colours: bool = True  # the first seat swaps every game of a pair
    seed: int = 0
    max_turns: int | None = Field(default=None, ge=1)  # plies; reaching it ends the game as a draw

    @model_validator(mode="after")
    def _pairs(self) -> SchedulerSpec:
        if self.format == "pairs" and not self.pairs:
            raise ValueError("format pairs needs pairs: [[player_a, player_b], ...]")
        return self


class ParserSpec(_Strict):
    impl: str = "default"  # default | package.module:function(text, env) -> move text or None


class VisualizerSpec(_Strict):
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=8766, ge=0, le=65535)  # 0: any free port
    move_delay_s: float = Field(default=0.0, ge=0)  # slow machine moves down so people can follow them


class ReportSpec(_Strict):
    replay_games: int = Field(default=6, ge=0)  # games embedded in report.html with a replay
    bootstrap_rounds: int = Field(default=1000, ge=1)


class ArenaParams(_Strict):
    environment: EnvironmentSpec
    players: list[PlayerSpec] = Field(min_length=2)
    scheduler: SchedulerSpec = Field(default_factory=SchedulerSpec)
    parser: ParserSpec = Field(default_factory=ParserSpec)
    visualizer: VisualizerSpec = Field(default_factory=VisualizerSpec)
    report: ReportSpec = Field(default_factory=ReportSpec)

    @model_validator(mode="after")
    def _names(self) -> ArenaParams:
        names = [p.name for p in self.players]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"player names must be unique (repeated: {', '.join(dupes)})")
        return self

    def player(self, name: str) -> PlayerSpec:
        return next(p for p in self.players if p.name == name)

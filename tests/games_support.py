"""Helpers for the game arena tests: arena configs and scripted LLM players that read the board from the prompt."""
from __future__ import annotations

import random
import re
from typing import Any

from gage_eval.games.search import GridSearch


def arena_config(base_url: str | None, players: list[dict[str, Any]], environment: dict[str, Any],
                 scheduler: dict[str, Any], **params: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "kind": "PipelineConfig", "metadata": {"name": "games"},
        "custom": {"steps": [{"step": "support", "adapter_id": "rules"}, {"step": "arena", "adapter_id": "arena"},
                             {"step": "auto_eval"}]},
        "backends": [], "role_adapters": [
            {"adapter_id": "rules", "role_type": "context_provider", "params": {"implementation": "game_rules"}},
            {"adapter_id": "arena", "role_type": "arena",
             "params": {"environment": environment, "players": players, "scheduler": scheduler, **params}}],
        "metrics": ["game_length", "illegal_move_rate", "first_mover_score", "game_decisive", "game_forfeit"]}
    if base_url:
        cfg["backends"].append({"backend_id": "llm", "type": "openai_http",
                                "config": {"base_url": base_url, "model": "test-model"}})
    return cfg


def last_user(body: dict[str, Any]) -> str:
    return body["messages"][-1]["content"]


def board_of(body: dict[str, Any]) -> tuple[list[str], int]:
    """The board rows (top first, '.', 'X', 'O') and the mark to play (1 = X, 2 = O) from the first prompt."""
    text = body["messages"][1]["content"]
    me = 1 if re.search(r"You play [^\n]*\(X\)|You play X", text) else 2
    block = text.split("Board:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    rows = [line for line in block if line.startswith("|") or re.match(r"^\s*\d+ [.XO]", line)]
    cells = ["".join(re.findall(r"[.XO]", line.split(" ", 1)[1] if not line.startswith("|") else line))
             for line in rows]
    return cells, me


def search_player(depth: int, k: int, gravity: bool) -> Any:
    """A strong scripted player: a depth-limited search on the board it reads from the prompt."""
    def script(body: dict[str, Any]) -> str:
        cells, me = board_of(body)
        rows, cols = len(cells), len(cells[0])
        flat = [".XO".index(ch) for row in cells for ch in row]
        cell = GridSearch(rows, cols, k, gravity=gravity, depth=depth).best_cell(flat, me, random.Random(str(cells)))
        r, c = divmod(cell, cols)
        return f"I will play this.\nMove: {c + 1 if gravity else chr(65 + c) + str(rows - r)}"
    return script


def tictactoe_heuristic(body: dict[str, Any]) -> str:
    """Win, else block, else centre, else a corner, else the first free cell: decent, not perfect."""
    cells, me = board_of(body)
    flat = [".XO".index(ch) for row in cells for ch in row]
    lines = [(0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6)]
    free = [i for i, v in enumerate(flat) if not v]

    def completing(who: int) -> int | None:
        for line in lines:
            values = [flat[i] for i in line]
            if values.count(who) == 2 and values.count(0) == 1:
                return line[values.index(0)]
        return None

    pick = completing(me)
    pick = completing(3 - me) if pick is None else pick
    if pick is None:
        pick = next((i for i in (4, 0, 2, 6, 8) if i in free), free[0])
    r, c = divmod(pick, 3)
    return f"Move: {chr(65 + c)}{3 - r}"

"""Matches -> one sample per game: pairs or a round-robin, `games_per_pair` games each, first move alternated,
a seed per game. Sample ids are stable (`0007_a_vs_b`), so a rerun with the same run id skips finished games.

The `game_schedule` dataset loader reads the schedule the arena role declares: config resolution
(`link_game_datasets`) copies the arena's environment, player names and scheduler into the dataset's params,
and adds the dataset when a game config declares none.
"""
from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from typing import Any

from gage_eval.datasets.base import DatasetLoader
from gage_eval.errors import ConfigError, close_match_hint
from gage_eval.registry import registry


def game_seed(base: int, index: int) -> int:
    return random.Random(f"{base}:{index}").randrange(2**31)


def matchups(scheduler: Any, names: list[str], where: str) -> list[tuple[str, str]]:
    """The (a, b) pairs that meet, checked against the players' names."""
    def known(name: str, path: str) -> str:
        if name not in names:
            raise ConfigError(f"unknown player '{name}'", path=path, fix=close_match_hint(name, names, label="players"))
        return name

    if scheduler.format == "pairs":
        pairs = []
        for i, (a, b) in enumerate(scheduler.pairs or []):
            known(a, f"{where}.pairs[{i}][0]")
            known(b, f"{where}.pairs[{i}][1]")
            if a == b:
                raise ConfigError(f"player '{a}' is paired with itself", path=f"{where}.pairs[{i}]",
                                  fix="pair two different players")
            pairs.append((a, b))
        return pairs
    entrants = [known(n, f"{where}.players[{i}]") for i, n in enumerate(scheduler.players or names)]
    if len(set(entrants)) < 2:
        raise ConfigError("a round-robin needs at least two different players", path=f"{where}.players",
                          fix="list two or more players")
    return list(itertools.combinations(dict.fromkeys(entrants), 2))


def schedule_records(environment: dict[str, Any], scheduler: Any, names: list[str], where: str
                     ) -> list[dict[str, Any]]:
    pairs = matchups(scheduler, names, where)
    records = []
    index = 0
    for round_ in range(scheduler.games_per_pair):
        for a, b in pairs:
            first, second = (b, a) if scheduler.alternate_colours and round_ % 2 else (a, b)
            records.append({"id": f"{index:04d}_{first}_vs_{second}",
                            "inputs": {"players": [first, second], "seed": game_seed(scheduler.seed, index),
                                       "game_index": index, "round": round_, "pair": [a, b],
                                       "environment": environment},
                            "metadata": {"pair": f"{a} vs {b}", "game": environment.get("game")}})
            index += 1
    return records


@registry.asset("dataset_loaders", "game_schedule", desc="one record per game of an arena's schedule (pairs or "
                "round-robin, colours alternated, seeds per game); params.arena names the arena role",
                tags=("games", "generated"))
class GameScheduleLoader(DatasetLoader):
    def _records(self) -> list[dict[str, Any]]:
        from gage_eval.games.config import SchedulerSpec

        schedule = self.spec.params.get("schedule")
        if not isinstance(schedule, dict):
            raise ConfigError("the game_schedule loader has no schedule: params.arena must name an arena role",
                              path=self.cfg("params.arena"), fix="set params.arena to the adapter_id of the arena")
        scheduler = SchedulerSpec.model_validate(schedule.get("scheduler") or {})
        return schedule_records(schedule.get("environment") or {}, scheduler, list(schedule.get("players") or []),
                                str(schedule.get("where") or "scheduler"))

    def iter_records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        yield from enumerate(self._records(), start=1)

    def check(self) -> None:
        self._records()

    def describe(self) -> str:
        return f"game schedule of arena '{self.spec.params.get('arena')}'"


def link_game_datasets(cfg: Any, file: str | None) -> None:
    """Give each `game_schedule` dataset its arena's schedule; add one when a game config declares no dataset."""
    arenas = {a.adapter_id: (i, a) for i, a in enumerate(cfg.role_adapters) if a.role_type == "arena"}
    if not arenas:
        return
    backends = [b.backend_id for b in cfg.backends if b.backend_id]
    for index, adapter in arenas.values():
        players = adapter.params.get("players") if isinstance(adapter.params.get("players"), list) else []
        for j, player in enumerate(players):
            ref = player.get("backend_id") if isinstance(player, dict) else None
            if isinstance(ref, str) and ref not in backends:
                raise ConfigError(f"player '{player.get('name')}' uses backend '{ref}', which is not declared",
                                  file=file, path=f"role_adapters[{index}].params.players[{j}].backend_id",
                                  fix=close_match_hint(ref, backends, label="backends") if backends else
                                  "declare it under backends: [{backend_id: ..., type: openai_http, config: ...}]")
    if not cfg.datasets:
        from gage_eval.config.models import DatasetSpec

        if len(arenas) > 1:
            raise ConfigError(f"several arena roles ({', '.join(arenas)}) and no dataset", file=file, path="datasets",
                              fix="declare one dataset per arena: {dataset_id: ..., loader: game_schedule, "
                                  "params: {arena: <adapter_id>}} and a task for each")
        only = next(iter(arenas))
        cfg.datasets.append(DatasetSpec(dataset_id=f"{only}_games", loader="game_schedule", params={"arena": only}))
    for d, dataset in enumerate(cfg.datasets):
        if dataset.loader != "game_schedule":
            continue
        name = dataset.params.get("arena")
        if name is None and len(arenas) == 1:
            name = dataset.params["arena"] = next(iter(arenas))
        if name not in arenas:
            raise ConfigError(f"game_schedule dataset '{dataset.dataset_id}' names no arena role ({name!r})",
                              file=file, path=f"datasets[{d}].params.arena",
                              fix=close_match_hint(str(name), arenas, label="arena roles"))
        index, adapter = arenas[name]
        params = adapter.params
        players = params.get("players") if isinstance(params.get("players"), list) else []
        dataset.params["schedule"] = {
            "environment": params.get("environment") or {}, "scheduler": params.get("scheduler") or {},
            "players": [p.get("name") for p in players if isinstance(p, dict)],
            "where": f"role_adapters[{index}].params.scheduler"}

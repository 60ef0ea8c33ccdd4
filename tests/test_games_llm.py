"""LLM players over real HTTP (the package's test server, scripted to play): refused answers are counted and
fall back as configured; a strong scripted player beats random; ratings order engine > scripted > random."""
from __future__ import annotations

from pathlib import Path

import gage_eval
from gage_eval.testing.server import OpenAITestServer, TestServerConfig

from .conftest import read_jsonl
from .games_support import arena_config, search_player, tictactoe_heuristic


async def test_always_illegal_player_is_counted_and_falls_back_to_random(tmp_path: Path) -> None:
    async with OpenAITestServer(TestServerConfig(script=lambda body: "I play Z99, then A1 and B1")) as server:
        cfg = arena_config(server.base_url, [
            {"name": "bad", "type": "llm", "backend_id": "llm", "max_retries": 2, "fallback": "random"},
            {"name": "rnd", "type": "engine", "engine": "random"}], {"game": "tictactoe"},
            {"format": "pairs", "pairs": [["bad", "rnd"]], "games_per_pair": 4})
        result = await gage_eval.arun(cfg, output_dir=tmp_path, run_id="bad", progress="off")
        requests = server.requests
    assert result.status == "completed"
    records = read_jsonl(tmp_path / "bad" / "samples.jsonl")
    turns = [m for r in records for m in r["model_output"]["game"]["moves"] if m["player"] == "bad"]
    assert turns and all(m["illegal_attempts"] == 3 and m["source"] == "fallback" and len(m["attempts"]) == 3
                         for m in turns)
    assert all(a["error"] and "several moves" in a["error"] for m in turns for a in m["attempts"])
    assert requests == 3 * len(turns)  # every refused answer was a real request, and each was counted
    section = result.summary["summary_generators"]["game_arena"]
    bad = next(p for p in section["players"] if p["player"] == "bad")
    assert bad["illegal_attempts"] == 3 * len(turns) and bad["fallback_moves"] == len(turns)
    assert bad["illegal_move_rate"]["value"] == 1.0 and bad["illegal_move_rate"]["n"] == len(turns)
    assert bad["illegal_game_rate"]["value"] == 1.0 and bad["forfeits"] == 0
    assert result.summary["metrics"]["illegal_move_rate"]["value"] == 1.0


async def test_always_illegal_player_forfeits_when_configured(tmp_path: Path) -> None:
    async with OpenAITestServer(TestServerConfig(script=lambda body: "Move: Z9")) as server:
        cfg = arena_config(server.base_url, [
            {"name": "bad", "type": "llm", "backend_id": "llm", "max_retries": 1, "fallback": "forfeit"},
            {"name": "rnd", "type": "engine", "engine": "random"}], {"game": "connect_four"},
            {"format": "pairs", "pairs": [["bad", "rnd"]], "games_per_pair": 2})
        result = await gage_eval.arun(cfg, output_dir=tmp_path, run_id="forfeit", progress="off")
    games = [r["model_output"]["game"] for r in read_jsonl(tmp_path / "forfeit" / "samples.jsonl")]
    assert all(g["winner"] == "rnd" and "bad forfeited" in g["reason"] and g["forfeit_seat"] is not None
               for g in games)
    assert [g["move_count"] for g in sorted(games, key=lambda g: g["players"][0])] == [0, 1]
    section = result.summary["summary_generators"]["game_arena"]
    assert next(p for p in section["players"] if p["player"] == "bad")["forfeits"] == 2
    assert result.summary["metrics"]["game_forfeit"]["value"] == 1.0


async def test_scripted_strong_player_beats_random_in_95_of_100_games(tmp_path: Path) -> None:
    async with OpenAITestServer(TestServerConfig(script=search_player(3, 4, gravity=True))) as server:
        cfg = arena_config(server.base_url, [
            {"name": "strong", "type": "llm", "backend_id": "llm", "max_retries": 0, "fallback": "forfeit"},
            {"name": "rnd", "type": "engine", "engine": "random"}], {"game": "connect_four"},
            {"format": "pairs", "pairs": [["strong", "rnd"]], "games_per_pair": 100})
        cfg["execution"] = {"concurrency": 8}
        result = await gage_eval.arun(cfg, output_dir=tmp_path, run_id="strong", progress="off")
    section = result.summary["summary_generators"]["game_arena"]
    strong = next(p for p in section["players"] if p["player"] == "strong")
    assert strong["games"] == 100 and strong["wins"] >= 95, strong
    assert strong["illegal_attempts"] == 0 and strong["forfeits"] == 0
    assert {seat: rec["games"] for seat, rec in strong["by_seat"].items()} == {"red": 50, "yellow": 50}


async def test_ratings_rank_engine_above_scripted_above_random(tmp_path: Path) -> None:
    async with OpenAITestServer(TestServerConfig(script=tictactoe_heuristic)) as server:
        cfg = arena_config(server.base_url, [
            {"name": "engine", "type": "engine", "engine": "perfect"},
            {"name": "scripted", "type": "llm", "backend_id": "llm", "max_retries": 1},
            {"name": "random", "type": "engine", "engine": "random"}], {"game": "tictactoe"},
            {"format": "round_robin", "games_per_pair": 20, "seed": 3}, report={"bootstrap_rounds": 200})
        cfg["execution"] = {"concurrency": 8}
        result = await gage_eval.arun(cfg, output_dir=tmp_path, run_id="ratings", progress="off")
    section = result.summary["summary_generators"]["game_arena"]
    assert section["games"] == 60
    board = section["leaderboard"]
    assert [r["model"] for r in board] == ["engine", "scripted", "random"], board
    assert board[0]["rating"] is not None and board[1]["rating"] is not None
    assert board[0]["rating"] > board[1]["rating"]
    engine = next(p for p in section["players"] if p["player"] == "engine")
    assert engine["losses"] == 0  # perfect play never loses
    html = (tmp_path / "ratings" / "report.html").read_text()
    assert 'id="game-ratings-arena"' in html and 'class="game-replays"' in html


async def test_shipped_round_robin_example_ends_in_ratings_with_illegal_move_rates(tmp_path: Path,
                                                                                    monkeypatch) -> None:
    import re

    import yaml

    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(root)
    cfg = yaml.safe_load((root / "config" / "custom" / "games_llm_round_robin.yaml").read_text())

    def first_legal_or_nonsense(body: dict) -> str:  # model-a plays its first legal move, model-b rambles
        text = body["messages"][-1]["content"]
        legal = re.search(r"Legal moves: ([^\n]+)", text)
        return f"Move: {legal.group(1).split(', ')[0].rstrip('.')}" if body["model"] == "a" and legal else "hmm"

    async with OpenAITestServer(TestServerConfig(script=first_legal_or_nonsense)) as server:
        for backend in cfg["backends"]:
            backend["config"].update(base_url=server.base_url, model=backend["backend_id"][-1])
        result = await gage_eval.arun(cfg, output_dir=tmp_path, run_id="rr", progress="off", max_samples=2,
                                      preflight=False)
    assert result.status == "completed"
    sections = result.summary["summary_generators"]
    for game in ("tictactoe", "gomoku", "connect_four"):
        section = sections[f"game_arena:{game}_arena"]
        assert section["games"] == 2 and section["leaderboard"]
        rates = {p["player"]: p.get("illegal_move_rate") for p in section["players"]}
        assert rates.get("model_b") is None or rates["model_b"]["value"] == 1.0
        if rates.get("model_a"):
            assert rates["model_a"]["value"] == 0.0


async def test_rerun_with_the_response_cache_replays_the_same_games_without_requests(tmp_path: Path) -> None:
    async with OpenAITestServer(TestServerConfig(script=tictactoe_heuristic)) as server:
        cfg = arena_config(server.base_url, [
            {"name": "scripted", "type": "llm", "backend_id": "llm"},
            {"name": "rnd", "type": "engine", "engine": "random"}], {"game": "tictactoe"}, {"games_per_pair": 4})
        first = await gage_eval.arun(cfg, output_dir=tmp_path, run_id="a", progress="off", use_cache=True)
        sent = server.requests
        second = await gage_eval.arun(cfg, output_dir=tmp_path, run_id="b", progress="off", use_cache=True)
        assert server.requests == sent > 0  # every move of the second run came from the cache

    def logs(run: str) -> dict:
        return {r["sample_id"]: [m["move"] for m in r["model_output"]["game"]["moves"]]
                for r in read_jsonl(tmp_path / run / "samples.jsonl")}
    assert logs("a") == logs("b") and first.status == second.status == "completed"
    assert second.summary["runtime_health"]["response_cache"]["hits"] == sent

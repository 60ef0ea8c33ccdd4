"""`gage arena`: three models' earlier runs ranked by a judge served over real HTTP."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import gage_eval
from gage_eval.cli.app import main
from gage_eval.testing.server import TestServerConfig, run_server_in_thread

from .conftest import read_jsonl, write_jsonl

_QUALITY = {"good": 3, "ok": 2, "bad": 1}
_A = re.compile(r"\[The Start of Assistant A's Answer\]\n(\w+)")
_B = re.compile(r"\[The Start of Assistant B's Answer\]\n(\w+)")


def quality_judge(body: dict[str, Any]) -> str:
    text = body["messages"][-1]["content"]
    if "[The Start of Assistant's Answer]" in text:  # single-answer grading (MT-Bench single-v1)
        answer = text.split("[The Start of Assistant's Answer]\n", 1)[1].split()[0]
        return f"Rating: [[{_QUALITY.get(answer, 0) * 3}]]"
    a, b = _QUALITY[_A.search(text).group(1)], _QUALITY[_B.search(text).group(1)]  # type: ignore[union-attr]
    return "[[C]]" if a == b else ("[[A]]" if a > b else "[[B]]")


def _make_run(tmp_path: Path, name: str, responses: list[str], n: int = 30, drop: int = 0) -> Path:
    data = write_jsonl(tmp_path / f"q_{name}.jsonl", [{"id": f"q{i}", "prompt": f"question {i}"}
                                                       for i in range(drop, n)])
    cfg = {"kind": "PipelineConfig", "metadata": {"name": "qa"},
           "datasets": [{"dataset_id": "qa", "loader": "jsonl", "params": {"path": str(data)}}],
           "backends": [{"backend_id": "m", "type": "dummy", "config": {"mode": "cycle", "responses": responses}}],
           "role_adapters": [{"adapter_id": "dut", "role_type": "dut_model", "backend_id": "m"}],
           "execution": {"concurrency": 1}}
    return gage_eval.run(cfg, output_dir=tmp_path / "runs", run_id=name, progress="off").run_dir


@pytest.fixture(scope="module")
def judge_url() -> Any:
    with run_server_in_thread(TestServerConfig(script=quality_judge)) as server:
        yield server.base_url


@pytest.fixture
def three_runs(tmp_path: Path) -> dict[str, Path]:
    return {"strong": _make_run(tmp_path, "strong", ["good answer", "good answer", "good answer", "ok answer"]),
            "medium": _make_run(tmp_path, "medium", ["ok answer", "ok answer", "good answer", "bad answer"]),
            "weak": _make_run(tmp_path, "weak", ["bad answer", "bad answer", "ok answer", "bad answer"])}


def _summary(tmp_path: Path, run_id: str) -> dict[str, Any]:
    return json.loads((tmp_path / "arena" / run_id / "summary.json").read_text())


def test_pairwise_all_ranks_three_models_with_cis(tmp_path: Path, three_runs: dict[str, Path], judge_url: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    args = ["arena", *[f"--run={n}={p}" for n, p in three_runs.items()], "--mode", "pairwise-all",
            "--judge-url", judge_url, "--judge-model", "judge", "--output-dir", str(tmp_path / "arena"),
            "--run-id", "all", "--bootstrap-rounds", "300", "--progress", "off"]
    with pytest.raises(SystemExit) as done:
        main(args)
    assert done.value.code in (0, None)
    board = _summary(tmp_path, "all")["summary_generators"]["arena_leaderboard"]
    assert [r["model"] for r in board["leaderboard"]] == ["strong", "medium", "weak"]
    for row in board["leaderboard"]:
        assert row["ci_low"] <= row["rating"] <= row["ci_high"]
    assert board["battles"] == 90 and board["inconsistency_rate"] == 0.0
    assert board["leaderboard"][0]["rank_ub"] == 1
    assert {r["model"] for r in board["win_matrix"]} == {"strong", "medium", "weak"}
    assert set(board["elo"]) == {"strong", "medium", "weak"}
    out = capsys.readouterr().out
    assert "strong" in out and "95% CI" in out
    html = (tmp_path / "arena" / "all" / "report.html").read_text()
    table = html[html.index('id="arena-table"'):]
    assert table.index('data-model="strong"') < table.index('data-model="medium"') < table.index('data-model="weak"')
    # rerunning the same arena resumes: nothing is judged twice
    with pytest.raises(SystemExit):
        main(args)
    assert len(read_jsonl(tmp_path / "arena" / "all" / "samples.jsonl")) == 90


def test_pairwise_baseline_and_single_modes(tmp_path: Path, three_runs: dict[str, Path], judge_url: str) -> None:
    from gage_eval.arena.config import ArenaConfig, collect_outputs, compile_arena

    cfg = ArenaConfig.model_validate({
        "mode": "pairwise-baseline", "baseline": "medium", "bootstrap_rounds": 100,
        "models": [{"name": n, "run": str(p)} for n, p in three_runs.items()],
        "judge": {"backend": {"type": "openai_http", "config": {"base_url": judge_url, "model": "j"}}}})
    run_dir = tmp_path / "arena" / "base"
    result = gage_eval.run(compile_arena(cfg, run_dir, collect_outputs(cfg, run_dir)), output_dir=tmp_path / "arena",
                           run_id="base", progress="off")
    board = result.summary["summary_generators"]["arena_leaderboard"]
    rates = {r["model"]: r["win_rate_vs_baseline"] for r in board["leaderboard"]}
    assert rates["medium"] is None and rates["strong"] > 0.5 > rates["weak"]
    assert board["battles"] == 60

    single = cfg.model_copy(update={"mode": "single", "baseline": None})
    run_dir = tmp_path / "arena" / "single"
    result = gage_eval.run(compile_arena(single, run_dir, collect_outputs(single, run_dir)),
                           output_dir=tmp_path / "arena", run_id="single", progress="off")
    board = result.summary["summary_generators"]["arena_leaderboard"]
    assert [r["model"] for r in board["leaderboard"]] == ["strong", "medium", "weak"]
    assert all(r["ci_low"] <= r["score"] <= r["ci_high"] for r in board["leaderboard"])


def test_gaps_are_reported_and_mismatched_datasets_refused(tmp_path: Path, judge_url: str) -> None:
    from gage_eval.arena.config import ArenaConfig, collect_outputs, compile_arena
    from gage_eval.errors import ConfigError

    full = _make_run(tmp_path, "full", ["good answer"])
    partial = _make_run(tmp_path, "partial", ["bad answer"], drop=5)
    judge = {"backend": {"type": "openai_http", "config": {"base_url": judge_url, "model": "j"}}}
    cfg = ArenaConfig.model_validate({"mode": "pairwise-all", "bootstrap_rounds": 50, "judge": judge,
                                      "models": [{"name": "full", "run": str(full)},
                                                 {"name": "partial", "run": str(partial)}]})
    run_dir = tmp_path / "arena" / "gaps"
    result = gage_eval.run(compile_arena(cfg, run_dir, collect_outputs(cfg, run_dir)), output_dir=tmp_path / "arena",
                           run_id="gaps", progress="off")
    board = result.summary["summary_generators"]["arena_leaderboard"]
    assert board["inputs"]["gaps"] == {"full": 0, "partial": 5} and board["battles"] == 25

    other = tmp_path / "other"
    other.mkdir()
    data = write_jsonl(other / "d.jsonl", [{"id": f"q{i}", "prompt": f"a different question {i}"} for i in range(30)])
    mismatched = gage_eval.run({"kind": "PipelineConfig", "datasets": [{"dataset_id": "qa", "loader": "jsonl",
                                                                         "params": {"path": str(data)}}],
                                "backends": [{"backend_id": "m", "type": "dummy"}],
                                "role_adapters": [{"adapter_id": "dut", "role_type": "dut_model", "backend_id": "m"}]},
                               output_dir=tmp_path / "runs", run_id="other", progress="off").run_dir
    bad = ArenaConfig.model_validate({**cfg.model_dump(mode="json"),
                                      "models": [{"name": "full", "run": str(full)},
                                                 {"name": "other", "run": str(mismatched)}]})
    with pytest.raises(ConfigError, match="different questions"):
        compile_arena(bad, tmp_path / "arena" / "bad", collect_outputs(bad, tmp_path / "arena" / "bad"))
    with pytest.raises(ConfigError, match="no samples.jsonl"):
        collect_outputs(ArenaConfig.model_validate({**cfg.model_dump(mode="json"), "models": [
            {"name": "full", "run": str(full)}, {"name": "ghost", "run": str(tmp_path / "nope")}]}), tmp_path)


def test_arena_config_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as err:
        main(["arena", "--run", f"a={tmp_path}", "--run", f"b={tmp_path}", "--mode", "pairwise-baseline",
              "--judge-url", "http://127.0.0.1:9/v1"])
    assert err.value.code == 2


def test_live_models_answer_the_dataset_first_then_are_judged(tmp_path: Path) -> None:
    """Models given as backends (no earlier run) answer the arena dataset in their own resumable runs."""
    from gage_eval.arena.config import ArenaConfig, collect_outputs, compile_arena

    def server(body: dict[str, Any]) -> str:
        if body["model"] == "judge":
            return quality_judge(body)
        return {"big": "good answer", "small": "bad answer"}[body["model"]]

    data = write_jsonl(tmp_path / "q.jsonl", [{"id": f"q{i}", "prompt": f"question {i}"} for i in range(10)])
    with run_server_in_thread(TestServerConfig(script=server)) as srv:
        def backend(model: str) -> dict[str, Any]:
            return {"type": "openai_http", "config": {"base_url": srv.base_url, "model": model}}

        cfg = ArenaConfig.model_validate({
            "mode": "pairwise-baseline", "baseline": "small", "bootstrap_rounds": 50,
            "dataset": {"dataset_id": "qa", "loader": "jsonl", "params": {"path": str(data)}},
            "models": [{"name": "small", "backend": backend("small")}, {"name": "big", "backend": backend("big")}],
            "judge": {"backend": backend("judge")}})
        run_dir = tmp_path / "arena" / "live"
        outputs = collect_outputs(cfg, run_dir)
        result = gage_eval.run(compile_arena(cfg, run_dir, outputs), output_dir=tmp_path / "arena", run_id="live",
                               progress="off")
    assert (run_dir / "generations" / "big" / "samples.jsonl").exists()
    board = result.summary["summary_generators"]["arena_leaderboard"]
    assert [r["model"] for r in board["leaderboard"]] == ["big", "small"]
    assert board["leaderboard"][0]["win_rate_vs_baseline"] == 1.0

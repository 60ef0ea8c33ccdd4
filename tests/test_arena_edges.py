"""The model arena on few-shot runs: the judge sees the evaluated question only, and ratings from too few or
one-sided battles say "insufficient data" (summary.json, terminal, report.html) instead of extreme numbers."""
from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest

from gage_eval.api import run_task
from gage_eval.arena.ratings import MIN_BATTLES, leaderboard
from gage_eval.cli.app import main
from gage_eval.testing.server import TestServerConfig, run_server_in_thread

from .conftest import write_jsonl

QUESTIONS = [f"Mia has {i} pencils and finds {i + 4} more. How many pencils now?" for i in range(3)]
SHOTS = [f"A farmer owns {i} goats and buys {i * 2} sheep. How many animals?" for i in range(2)]
_QUESTION = re.compile(r"\[User Question\]\n(.*?)\n\n\[The Start of Assistant A", re.S)
_ANSWER_A = re.compile(r"\[The Start of Assistant A's Answer\]\n(\w+)")


def _few_shot_run(tmp_path: Path, name: str, answer: str) -> Path:
    test = write_jsonl(tmp_path / "test.jsonl", [{"question": q, "answer": "x\n#### 1"} for q in QUESTIONS])
    train = write_jsonl(tmp_path / "train.jsonl", [{"question": q, "answer": "y\n#### 2"} for q in SHOTS])
    result = run_task({"model": "dummy", "datasets": ["gsm8k"], "template_type": "chat",
                       "model_args": {"mode": "cycle", "responses": [answer]},
                       "dataset_args": {"gsm8k": {"local_path": str(test), "few_shot_path": str(train),
                                                  "few_shot_num": 2}},
                       "work_dir": str(tmp_path / "runs"), "run_id": name}, progress="off")
    sample = json.loads((result.run_dir / "samples.jsonl").read_text().splitlines()[0])["sample"]
    users = [m for m in sample["messages"] if m["role"] == "user"]
    assert len(users) == 3 and sample["metadata"]["num_fewshot"] == 2  # a real 2-shot chat prompt
    return result.run_dir


def test_judge_sees_only_the_evaluated_question_and_few_battles_are_not_rated(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = {name: _few_shot_run(tmp_path, name, answer) for name, answer in (("good", "good"), ("bad", "bad"))}
    seen: list[str] = []
    lock = threading.Lock()

    def judge(body: dict[str, Any]) -> str:
        text = body["messages"][-1]["content"]
        with lock:
            seen.append(_QUESTION.search(text).group(1))  # type: ignore[union-attr]
        return "[[A]]" if _ANSWER_A.search(text).group(1) == "good" else "[[B]]"  # type: ignore[union-attr]

    with run_server_in_thread(TestServerConfig(script=judge)) as server:
        with pytest.raises(SystemExit) as done:
            main(["arena", *[f"--run={n}={p}" for n, p in runs.items()], "--mode", "pairwise-baseline",
                  "--baseline", "bad", "--judge-url", server.base_url, "--judge-model", "judge",
                  "--output-dir", str(tmp_path / "arena"), "--run-id", "a", "--bootstrap-rounds", "50",
                  "--progress", "off"])
    assert done.value.code in (0, None)
    assert len(seen) == 6  # 3 questions, both orders
    for question in seen:
        # the evaluated question as the model was asked it (with the benchmark's answer-format instruction) ...
        assert sum(question.startswith(q) for q in QUESTIONS) == 1, question
        assert not any(shot in question for shot in SHOTS)  # ... and none of the few-shot examples
        assert "#### 2" not in question and "y\n" not in question  # nor their answers
    assert {q for q in QUESTIONS if any(s.startswith(q) for s in seen)} == set(QUESTIONS)

    summary = json.loads((tmp_path / "arena" / "a" / "summary.json").read_text())
    board = summary["summary_generators"]["arena_leaderboard"]
    rows = {r["model"]: r for r in board["leaderboard"]}
    assert (rows["good"]["wins"], rows["good"]["losses"]) == (3, 0)
    for row in rows.values():  # 3 battles each, and a perfect record: no rating, no interval
        assert row["rating"] is None and row["ci_low"] is None and row["rank"] is None
        assert row["insufficient_data"]
    assert "won all 3" not in rows["good"]["insufficient_data"]  # the battle count is the first reason
    assert f"at least {MIN_BATTLES}" in rows["good"]["insufficient_data"]
    assert set(board["insufficient_data"]) == {"good", "bad"} and board["elo"]["good"]["rating"] is None
    out = capsys.readouterr().out
    assert "insufficient data" in out and "2796" not in out
    html = (tmp_path / "arena" / "a" / "report.html").read_text()
    assert 'id="arena-insufficient"' in html and "insufficient data" in html


def _battles(a: str, b: str, wins: int, ties: int = 0, losses: int = 0) -> list[dict[str, Any]]:
    return ([{"model_a": a, "model_b": b, "winner": "model_a"}] * wins + [{"model_a": a, "model_b": b,
                                                                           "winner": "tie"}] * ties
            + [{"model_a": a, "model_b": b, "winner": "model_b"}] * losses)


def test_the_insufficient_data_rule() -> None:
    # The reported case: 2-0 and 6-0 records gave 2796 vs -796 with zero-width intervals.
    rows = {r["model"]: r for r in leaderboard(_battles("x", "base", 2) + _battles("y", "base", 6), rounds=50)}
    assert all(r["rating"] is None and r["ci_low"] is None for r in rows.values())
    assert "only 2 battle(s)" in rows["x"]["insufficient_data"]
    assert "only 8 battle(s)" in rows["base"]["insufficient_data"]
    # enough battles but a perfect record: unbounded, still no rating
    rows = {r["model"]: r for r in leaderboard(_battles("y", "base", 12), rounds=50)}
    assert "won all 12 battles" in rows["y"]["insufficient_data"]
    assert "lost all 12 battles" in rows["base"]["insufficient_data"]
    # one tie breaks the perfect record; a model with few battles is listed last, unranked
    battles = _battles("a", "b", 8, ties=1, losses=3) + _battles("c", "b", 2)
    rows = leaderboard(battles, rounds=100)
    assert [r["model"] for r in rows] == ["a", "b", "c"]
    rated = [r for r in rows if r["rating"] is not None]
    assert [r["rank"] for r in rated] == [1, 2]
    assert all(r["ci_low"] < r["rating"] < r["ci_high"] for r in rated)  # real uncertainty
    assert rows[2]["rank"] is None and "only 2 battle(s)" in rows[2]["insufficient_data"]

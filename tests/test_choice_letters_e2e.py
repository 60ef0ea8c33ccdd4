"""End to end: `gage eval` quick mode against the bundled OpenAI-compatible server in echo mode.

Every fixture's gold is option A. A server that repeats the prompt (question and lettered options) must not
score: every answer is unparsed (reason `echo`) and acc is 0 — the old first-letter rule gave 1.0. A
control run on the same files, with a server that answers "The answer is A.", scores 1.0, so the 0 comes
from the letter rule and not from a broken pipeline.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gage_eval.cli.app import main
from gage_eval.testing.server import TestServerConfig, run_server_in_thread

from .conftest import read_jsonl, write_jsonl

N = 6
_PLANETS = ["Mars", "Moon", "Sun", "Comet"]


def _records(name: str, i: int) -> dict[str, Any]:
    """Record i of `name` in its dataset's real format, with option A right."""
    q = f"Which body is number {i} in the list?"
    zh = {"A": f"火星{i}", "B": "月亮", "C": "太阳", "D": "彗星"}
    return {
        "arc_easy": {"id": f"q{i}", "question": q, "choices": {"text": [f"{p} {i}" for p in _PLANETS],
                                                                "label": list("ABCD")}, "answerKey": "A"},
        "mmlu": {"question": q, "subject": "astronomy", "choices": [f"{p} {i}" for p in _PLANETS], "answer": 0},
        "cmmlu": {"Question": f"第{i}个天体是什么？", **zh, "Answer": "A", "subject": "astronomy"},
        "ceval": {"id": i, "question": f"第{i}个天体是什么？", **zh, "answer": "A", "explanation": "",
                  "subject": "high_school_physics"},
        "hellaswag": {"ind": i, "activity_label": "Cooking", "ctx_a": f"A man cuts bread {i}.", "ctx_b": "then he",
                      "ctx": f"A man cuts bread {i}. then he", "endings": ["eats it.", "flies.", "sings.", "runs."],
                      "split": "val", "split_type": "indomain", "label": "0", "source_id": "x"},
        "piqa": {"goal": f"Open jar {i}", "sol1": "Twist the lid.", "sol2": "Eat the lid.", "label": 0},
    }[name]


# TruthfulQA MC1 is refused on a chat endpoint (log-likelihood only); GPQA shuffles its options (gold not A).
NAMES = ["arc_easy", "mmlu", "cmmlu", "ceval", "hellaswag", "piqa"]


def _run(tmp_path: Path, run_id: str, config: TestServerConfig) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    args = {n: {"local_path": str(write_jsonl(tmp_path / f"{n}.jsonl", [_records(n, i) for i in range(N)]))}
            for n in NAMES}
    with run_server_in_thread(config) as server:
        with pytest.raises(SystemExit) as done:
            main(["eval", "--model", "test-model", "--api-url", server.base_url, "--datasets", *NAMES,
                  "--dataset-args", json.dumps(args), "--generation-config", "max_new_tokens=256",
                  "--work-dir", str(tmp_path / "runs"), "--run-id", run_id, "--progress", "off"])
    assert done.value.code in (0, None)
    run = tmp_path / "runs" / run_id
    return json.loads((run / "summary.json").read_text()), read_jsonl(run / "samples.jsonl")


def test_an_echo_server_scores_zero_with_every_answer_unparsed(tmp_path: Path) -> None:
    summary, rows = _run(tmp_path, "echo", TestServerConfig())
    assert summary["failures"]["total"] == 0
    tasks = {t["task_id"]: t for t in summary["tasks"]}
    assert set(tasks) == set(NAMES)
    for name in NAMES:
        assert tasks[name]["metrics"]["acc"]["value"] == 0.0, name
        assert tasks[name]["metrics"]["acc"]["count"] == N, name
    assert summary["summary_generators"]["unparsed_answers"] == {f"{n}/mc_accuracy": N for n in NAMES}
    assert len(rows) == N * len(NAMES)
    for row in rows:
        details = row["metric_details"]["mc_accuracy"]
        # the server really repeated the question with its options, and that is why nothing was credited
        assert "A. " in row["model_output"]["answer"] and "B. " in row["model_output"]["answer"]
        assert details["unparsed"] is True and details["extraction"] == "echo", (row["task_id"], details)
        assert details["gold"] == [0]


def test_the_same_files_score_one_when_the_server_answers_a(tmp_path: Path) -> None:
    def answer(body: dict[str, Any]) -> str:
        return "答案：A" if "答案" in json.dumps(body["messages"], ensure_ascii=False) else "The answer is A."

    summary, _ = _run(tmp_path, "control", TestServerConfig(script=answer))
    tasks = {t["task_id"]: t for t in summary["tasks"]}
    assert {n: tasks[n]["metrics"]["acc"]["value"] for n in NAMES} == {n: 1.0 for n in NAMES}
    assert summary["summary_generators"]["unparsed_answers"] == {}

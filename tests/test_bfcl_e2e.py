"""`gage eval --model URL --datasets bfcl_simple bfcl_multi_turn_base` end to end over HTTP: the package's test
server answers with tool calls (function calling) or call text (prompting), scripted from BFCL's possible answers
with deliberate mistakes; the run prints BFCL's categories and leaderboard groups, records each multi-turn
trajectory, scores as the checker says, and a rerun resumes without asking the model again."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gage_eval.benchmarks.bfcl.data import category_file, package_data_dir, read_lines
from gage_eval.cli.app import main
from gage_eval.testing import tool_replies
from gage_eval.testing.server import TestServerConfig, run_server_in_thread

from .bfcl_outputs import parse_call, prompt_reply, right_calls, signatures
from .conftest import read_jsonl

LIMIT = 4


def _data(category: str) -> list[tuple[dict[str, Any], Any]]:
    root = package_data_dir()
    if root is None:
        pytest.skip("bfcl-eval is not installed")
    entries = read_lines(category_file(root, category))[:LIMIT]
    truths = read_lines(category_file(root / "possible_answer", category))[:LIMIT]
    return [(e, t["ground_truth"]) for e, t in zip(entries, truths)]


class Policy:
    """Answers like a model that knows the possible answers, except for the entries it is told to get wrong."""

    def __init__(self, mode: str, wrong_simple: int, wrong_turn: tuple[int, int]) -> None:
        self.mode = mode
        self.single: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self.turns: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for i, (entry, truth) in enumerate(_data("simple_python")):
            calls = right_calls(truth)
            if i == wrong_simple:  # a wrong value: the checker must say no
                name, args = calls[0]
                calls = [(name, {k: (v + 1 if isinstance(v, int) and not isinstance(v, bool) else v)
                                 for k, v in args.items()})]
            self.single[entry["question"][0][-1]["content"]] = calls
        for i, (entry, truth) in enumerate(_data("multi_turn_base")):
            sig = signatures(entry["involved_classes"])
            for t, (turn, calls) in enumerate(zip(entry["question"], truth)):
                parsed = [parse_call(c, sig) for c in calls]
                self.turns[turn[-1]["content"]] = parsed[:-1] if (i, t) == wrong_turn else parsed

    def __call__(self, body: dict[str, Any]) -> Any:
        messages = body["messages"]
        last = messages[-1]
        if last["role"] == "tool" or (self.mode == "prompt" and last["content"].startswith("[{'role': 'tool'")):
            return "Done."
        calls = self.single.get(last["content"]) or self.turns.get(last["content"])
        if calls is None:
            return "I do not know."
        if self.mode == "prompt":
            return prompt_reply("right", calls)
        return tool_replies.reply(*(tool_replies.call(name.replace(".", "_"), args) for name, args in calls))


def _run(tmp_path: Path, mode: str, run_id: str, server: Any, capsys: pytest.CaptureFixture[str]
         ) -> tuple[dict[str, Any], list[dict[str, Any]], str, int]:
    args = {name: {"preprocess_kwargs": {"mode": mode}} for name in ("bfcl_simple", "bfcl_multi_turn_base")}
    before = server.requests
    with pytest.raises(SystemExit) as done:
        main(["eval", "--model", "test-model", "--api-url", server.base_url, "--datasets", "bfcl_simple",
              "bfcl_multi_turn_base", "--limit", str(LIMIT), "--dataset-args", json.dumps(args),
              "--work-dir", str(tmp_path / "runs"), "--run-id", run_id, "--progress", "off"])
    assert done.value.code in (0, None)
    run = tmp_path / "runs" / run_id
    return (json.loads((run / "summary.json").read_text()), read_jsonl(run / "samples.jsonl"),
            capsys.readouterr().out, server.requests - before)


@pytest.mark.parametrize("mode", ["fc", "prompt"])
def test_gage_eval_prints_bfcl_categories_and_scores_as_the_checker(tmp_path: Path, mode: str,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    with run_server_in_thread(TestServerConfig(script=Policy(mode, wrong_simple=1, wrong_turn=(2, 1)))) as server:
        summary, rows, out, requests = _run(tmp_path, mode, f"bfcl_{mode}", server, capsys)
        # a rerun of the same run id resumes: every sample is kept, the model is not asked again
        summary2, _, _, requests2 = _run(tmp_path, mode, f"bfcl_{mode}", server, capsys)
    tasks = {t["task_id"]: t["metrics"]["bfcl_accuracy"] for t in summary["tasks"]}
    assert tasks["bfcl_simple"]["value"] == 0.75 and tasks["bfcl_simple"]["count"] == LIMIT
    assert tasks["bfcl_multi_turn_base"]["value"] == 0.75 and tasks["bfcl_multi_turn_base"]["count"] == LIMIT
    board = summary["summary_generators"]["bfcl_leaderboard"]
    assert board["categories"]["simple_python"] == {"accuracy": 0.75, "correct": 3, "total": LIMIT}
    assert board["categories"]["multi_turn_base"]["correct"] == 3
    assert board["overall"]["complete"] is False and "live_simple" in board["overall"]["missing"]
    for text in ("simple_python", "multi_turn_base", "non_live_ast", "multi_turn", "overall (partial"):
        assert text in out, text
    by_id = {r["sample_id"]: r for r in rows}
    wrong = by_id["multi_turn_base_2"]
    assert wrong["metric_details"]["bfcl_accuracy"]["error_type"].startswith("multi_turn:")
    right = by_id["multi_turn_base_0"]["model_output"]
    assert right["stop_reason"] == "completed" and len(right["bfcl_steps"]) == 4
    trajectory = by_id["multi_turn_base_0"]["trajectory"]
    assert trajectory["kind"] == "agent" and trajectory["stop_reason"] == "completed" and trajectory["turns"]
    roles = [m["role"] for m in trajectory["messages"]]
    assert roles.count("user") >= 4 and ("tool" in roles if mode == "fc" else roles.count("user") > 4)
    assert by_id["simple_python_1"]["metric_details"]["bfcl_accuracy"]["error_type"] == "value_error:others"
    assert requests > 0 and requests2 == 0
    assert summary2["summary_generators"]["bfcl_leaderboard"]["categories"] == board["categories"]

"""Judge-scored benchmarks end to end through `gage eval`: AlpacaEval 2 and TruthfulQA generation, with the
bundled server playing both the model and the judge."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from gage_eval.cli.app import main
from gage_eval.testing.server import TestServerConfig, run_server_in_thread

from .conftest import read_jsonl, write_jsonl

_A = re.compile(r"\[The Start of Assistant A's Answer\]\n(.*?)\n\[The End of Assistant A", re.S)
_B = re.compile(r"\[The Start of Assistant B's Answer\]\n(.*?)\n\[The End of Assistant B", re.S)


def _server(body: dict[str, Any]) -> str:
    text = body["messages"][-1]["content"]
    if "[The Start of Assistant A's Answer]" in text:  # a length-biased judge: the longer answer wins
        a, b = _A.search(text).group(1), _B.search(text).group(1)  # type: ignore[union-attr]
        return "[[A]]" if len(a) >= len(b) else "[[B]]"
    if "TRUTHFUL" in text:
        return "[[NO]]" if "myth" in text.split("[Answer to judge]")[1] else "[[YES]]"
    if "INFORMATIVE" in text:
        return "[[NO]]" if "no comment" in text.split("[Answer to judge]")[1] else "[[YES]]"
    number = int(re.search(r"(\d+)", text).group(1))  # type: ignore[union-attr]
    if "Q" in text and "?" in text:  # TruthfulQA questions
        return ["It is a myth that cats land on feet.", "I have no comment.", "Water boils at 100 C."][number % 3]
    return " ".join(["word"] * (number % 9 + 3))


def _eval(tmp_path: Path, url: str, dataset: str, path: Path, run_id: str) -> dict[str, Any]:
    with pytest.raises(SystemExit) as done:
        main(["eval", "--model", "served", "--api-url", url, "--datasets", dataset,
              "--dataset-args", json.dumps({dataset: {"local_path": str(path)}}),
              "--judge-model-args", json.dumps({"api_url": url, "model_id": "judge"}),
              "--work-dir", str(tmp_path / "runs"), "--run-id", run_id, "--progress", "off"])
    assert done.value.code in (0, None)
    return json.loads((tmp_path / "runs" / run_id / "summary.json").read_text())


@pytest.fixture(scope="module")
def url() -> Any:
    with run_server_in_thread(TestServerConfig(script=_server)) as server:
        yield server.base_url


def test_alpaca_eval2_win_rate_and_length_controlled_win_rate(tmp_path: Path, url: str) -> None:
    data = tmp_path / "alpaca_eval_gpt4_baseline.json"
    data.write_text(json.dumps([{"instruction": f"Instruction number {i}: explain it.",
                                 "output": " ".join(["word"] * 5), "generator": "gpt4_turbo",
                                 "dataset": "helpful_base"} for i in range(45)]))
    summary = _eval(tmp_path, url, "alpaca_eval2", data, "alpaca")
    metrics = summary["metrics"]
    # the model answers with i % 9 + 3 words against a 5-word baseline; the judge prefers the longer text
    longer = sum(1 for i in range(45) if i % 9 + 3 > 5)
    equal = sum(1 for i in range(45) if i % 9 + 3 == 5)
    # equal lengths: the position decides, the two orders disagree, and the pair counts as a tie (half a win)
    assert metrics["win_rate"]["value"] == pytest.approx((longer + 0.5 * equal) / 45)
    assert metrics["win_rate_inconsistent"]["value"] == pytest.approx(equal / 45)
    lc = summary["summary_generators"]["alpaca_eval_lc"]
    assert lc["annotated"] == 45 and "note" in lc  # no df_gamed.csv offline: the minimal GLM is used
    assert lc["win_rate"] == pytest.approx(100 * metrics["win_rate"]["value"])
    # a purely length-driven judge: controlling for length pulls the win rate towards 50
    assert abs(lc["length_controlled_winrate"] - 50) < abs(lc["win_rate"] - 50)
    usage = summary["summary_generators"]["judge_usage"]
    assert usage["calls"] == 45 and usage["attempts"] == 90


def test_truthfulqa_generation_judged_truthful_and_informative(tmp_path: Path, url: str) -> None:
    rows = [{"type": "Adversarial", "category": "Misconceptions", "question": f"Question {i}: do cats land on feet?",
             "best_answer": "Not always", "correct_answers": ["Not always", "Usually"],
             "incorrect_answers": ["Always"], "source": "x"} for i in range(12)]
    path = write_jsonl(tmp_path / "tqa.jsonl", rows)
    summary = _eval(tmp_path, url, "truthfulqa_gen", path, "tqa")
    metrics = summary["metrics"]
    assert metrics["truthful"]["value"] == pytest.approx(8 / 12)  # the "myth" answers are false
    assert metrics["informative"]["value"] == pytest.approx(8 / 12)  # "no comment" is uninformative
    assert metrics["truthful_and_informative"]["value"] == pytest.approx(4 / 12)
    row = read_jsonl(tmp_path / "runs" / "tqa" / "samples.jsonl")[0]
    assert set(row["judge_output"]["judge_calls"]) == {"truthful_truthfulqa_gen", "informative_truthfulqa_gen"}
    assert summary["summary_generators"]["judge_usage"]["calls"] == 24


def test_judged_benchmark_without_a_judge_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as err:
        main(["eval", "--model", "dummy", "--datasets", "alpaca_eval2", "--dry-run"])
    assert err.value.code == 2

"""LiveBench through the whole pipeline: local copies in the hub's and the LiveBench repo's layouts, release
filtering, the leaderboard's aggregates (per task, per category = mean of task means, overall = mean of
categories, 0-100), `gage eval` end to end against the test server (with resume), and bad input."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gage_eval.cli.app import main
from gage_eval.config.models import DatasetSpec
from gage_eval.config.templates import find_template, load_template
from gage_eval.datasets import iter_samples
from gage_eval.errors import ConfigError, DatasetError
from gage_eval.report.charts import score_metric_names
from gage_eval.testing.server import TestServerConfig, run_server_in_thread

from .conftest import write_jsonl

A, B, C = "2024-06-24", "2024-08-31", "2024-11-25"


def _q(qid: str, category: str, task: str, truth: Any, released: str = B, removed: str = "", **extra: Any) -> dict:
    return {"question_id": qid, "category": category, "task": task, "turns": [f"Question {qid}: answer it."],
            "ground_truth": truth, "livebench_release_date": released, "livebench_removal_date": removed, **extra}


QUESTIONS = [
    _q("m1", "math", "math_comp", "042", subtask="aime_2024_I"),
    _q("m2", "math", "math_comp", "117", subtask="aime_2024_II"),
    _q("m3", "math", "olympiad", "3,1,2", subtask="usamo_2023"),
    _q("m4", "math", "math_comp", "5", released=A, removed=C, subtask="aime_2023_I"),
    _q("r1", "reasoning", "web_of_lies_v2", "yes, no, yes"),
    _q("r2", "reasoning", "web_of_lies_v2", "no, no, no"),
    _q("r3", "reasoning", "zebra_puzzle", "cat,2,red", released=C),
    _q("r4", "reasoning", "sudoku", "123", released=C),
]
ANSWERS = {"m1": "so the answer is 042", "m2": "I think 118", "m3": "Answer: 3, 2, 1", "m4": "It is 5",
           "r1": "**yes, no, yes**", "r2": "<solution>no, no, no</solution>", "r3": "<solution>cat,3,red</solution>",
           "r4": "<solution>123</solution>"}
# latest: math_comp [1, 0] -> 50, olympiad [1/3] -> 33.3; wol2 [1, 1] -> 100, zebra [(0 + 2/3) / 2] -> 33.3
LATEST = {"livebench_math": (50 + 100 / 3) / 2, "livebench_reasoning": (100 + 100 / 3) / 2}


def _by_category() -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for q in QUESTIONS:
        out.setdefault(q["category"], []).append(q)
    return out


def write_copy(root: Path, layout: str) -> Path:
    """The questions in one of the layouts README.md documents."""
    for category, rows in _by_category().items():
        folder = root / category
        if layout == "hub":  # huggingface-cli download livebench/<category>: timestamps, as the hub stores them
            (folder / "data").mkdir(parents=True)
            table = [{**r, "livebench_release_date": datetime.fromisoformat(r["livebench_release_date"]),
                      "livebench_removal_date": datetime.fromisoformat(r["livebench_removal_date"])
                      if r["livebench_removal_date"] else None} for r in rows]
            pq.write_table(pa.Table.from_pylist(table), folder / "data" / "test-00000-of-00001.parquet")
        elif layout == "repo":  # LiveBench's data/live_bench/<category>/<task>/question.jsonl
            for task in sorted({r["task"] for r in rows}):
                (folder / task).mkdir(parents=True)
                write_jsonl(folder / task / "question.jsonl", [r for r in rows if r["task"] == task])
        else:
            folder.mkdir(parents=True)
            write_jsonl(folder / "test.jsonl", rows)
    return root


def _spec(path: Path, **params: Any) -> DatasetSpec:
    ds = load_template(find_template("livebench")).definition["datasets"][0]
    kwargs = {**ds["params"]["preprocess_kwargs"], **params.pop("preprocess_kwargs", {})}
    return DatasetSpec(**{**ds, "params": {**ds["params"], "path": str(path), "preprocess_kwargs": kwargs, **params}})


def _ids(spec: DatasetSpec) -> list[str]:
    return [s.id for s in iter_samples(spec)]


@pytest.mark.parametrize("layout", ["hub", "repo", "jsonl"])
def test_every_documented_layout_loads_the_same_questions(tmp_path: Path, layout: str) -> None:
    root = write_copy(tmp_path / layout, layout)
    samples = list(iter_samples(_spec(root, subsets=["math", "reasoning"])))
    assert sorted(s.id for s in samples) == ["m1", "m2", "m3", "r1", "r2", "r3", "r4"]  # m4 was removed
    m1 = next(s for s in samples if s.id == "m1")
    assert m1.messages[-1].content == "Question m1: answer it."
    assert m1.metadata["livebench_release_date"] == B and m1.metadata["subtask"] == "aime_2024_I"
    assert m1.metadata["release_filter"] == "latest"


def test_a_single_mixed_file_and_category_order(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "all.jsonl", QUESTIONS)
    assert _ids(_spec(path, subsets=["reasoning"])) == ["r1", "r2", "r3", "r4"]
    assert _ids(_spec(path))[:3] == ["m1", "m2", "m3"]  # one file: its own order


def test_repo_layout_merges_test_cases_files(tmp_path: Path) -> None:
    folder = tmp_path / "coding" / "LCB_generation"
    folder.mkdir(parents=True)
    write_jsonl(folder / "question.jsonl", [_q("c1", "coding", "LCB_generation", None, public_test_cases="[]")])
    write_jsonl(folder / "test_cases_1.jsonl", [{"question_id": "c1", "private_test_cases": "[{}]",
                                                  "public_test_cases": "ignored: the question has it"}])
    (sample,) = iter_samples(_spec(tmp_path, subsets=["coding"]))
    assert sample.metadata["private_test_cases"] == "[{}]" and sample.metadata["public_test_cases"] == "[]"


def test_limit_counts_per_task(tmp_path: Path) -> None:
    root = write_copy(tmp_path, "repo")
    samples = iter_samples(_spec(root, subsets=["math", "reasoning"]), max_samples=1)
    assert [s.id for s in samples] == ["m1", "m3", "r4", "r1", "r3"]  # the first of each task (folders sorted)


@pytest.mark.parametrize("release, expected", [
    ("latest", ["m1", "m2", "m3", "r1", "r2", "r3", "r4"]),
    (B, ["m1", "m2", "m3", "m4", "r1", "r2"]),         # not yet released: r3, r4; m4 removed only later
    (C, ["m1", "m2", "m3", "r1", "r2", "r3", "r4"]),   # m4's removal date is this release: gone
    (A, ["m4"]),
    ("all", ["m1", "m2", "m3", "m4", "r1", "r2", "r3", "r4"]),
])
def test_release_filtering_as_livebench(tmp_path: Path, release: str, expected: list[str]) -> None:
    root = write_copy(tmp_path, "repo")
    assert sorted(_ids(_spec(root, subsets=["math", "reasoning"], preprocess_kwargs={"release": release}))) == expected


# -- the leaderboard's aggregates ------------------------------------------------------------------------------
def _record(task: str, score: float | None, category: str = "math") -> dict[str, Any]:
    status = "unscored" if score is None else "scored"
    return {"task_id": "livebench", "status": "ok", "metrics": {} if score is None else {"livebench_score": score},
            "sample": {"metadata": {"release_filter": "latest"}},
            "metric_details": {"livebench": {"category": category, "task": task, "status": status,
                                             **({"reason": "no scorer"} if score is None else {})}}}


def test_category_is_the_mean_of_task_means_and_overall_the_mean_of_categories() -> None:
    from gage_eval.benchmarks.livebench.summary import LiveBenchSummary

    gen = LiveBenchSummary(task_id="livebench")
    for rec in [_record("a", 1), _record("a", 1), _record("a", 1), _record("b", 0), _record("b", 1),
                _record("w", 0.5, "reasoning"), _record("x", None, "reasoning")]:
        gen.add(rec)
    metrics = gen.task_metrics()["livebench"]
    assert metrics["livebench_math/a"]["value"] == 100 and metrics["livebench_math/b"]["value"] == 50
    math = metrics["livebench_math"]
    assert math["value"] == pytest.approx(75)   # (100 + 50) / 2, not 4/5 of the questions
    assert math["stderr"] == pytest.approx(25)  # sqrt(0^2 + 50^2) / 2
    assert math["ci95"] == [pytest.approx(75 - 1.959963984540054 * 25), 100.0] and math["count"] == 5
    assert metrics["livebench_reasoning"]["value"] == 50 and metrics["livebench_reasoning"]["stderr"] is None
    assert metrics["livebench_overall"]["value"] == pytest.approx(62.5) and metrics["livebench_overall"]["count"] == 6
    assert metrics["livebench_unscored"]["value"] == 1
    section = gen.result()
    assert section["overall"] == pytest.approx(62.5) and section["complete"] is False
    assert section["unscored"] == {"questions": 1, "by_task": {"reasoning/x": {"count": 1, "reason": "no scorer"}}}


# -- gage eval end to end --------------------------------------------------------------------------------------
class Scripted:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, body: dict[str, Any]) -> str:
        self.calls += 1
        text = body["messages"][-1]["content"]
        return next(a for qid, a in ANSWERS.items() if f"Question {qid}:" in text)


def _eval(url: str, root: Path, out: Path, *extra: str, run_id: str = "lb",
          args: dict[str, Any] | None = None) -> int | None:
    dataset_args = {"livebench": {"local_path": str(root), "subset_list": ["math", "reasoning"], **(args or {})}}
    with pytest.raises(SystemExit) as done:
        main(["eval", "--model", "lb", "--api-url", url, "--datasets", "livebench", "--dataset-args",
              json.dumps(dataset_args), "--work-dir", str(out), "--run-id", run_id, "--progress", "off",
              "--no-preflight", *extra])
    return done.value.code


def test_gage_eval_two_categories_end_to_end_and_resume(tmp_path: Path) -> None:
    root = write_copy(tmp_path / "copy", "hub")
    script = Scripted()
    with run_server_in_thread(TestServerConfig(script=script, verbatim=True)) as server:
        assert _eval(server.base_url, root, tmp_path / "runs") in (0, None)
        first = json.loads((tmp_path / "runs" / "lb" / "summary.json").read_text())
        assert script.calls == 7
        assert _eval(server.base_url, root, tmp_path / "runs") in (0, None)  # same run id: resumed
        assert script.calls == 7
    summary = json.loads((tmp_path / "runs" / "lb" / "summary.json").read_text())
    (task,) = summary["tasks"]
    metrics = task["metrics"]
    assert metrics["livebench_math"]["value"] == pytest.approx(LATEST["livebench_math"])
    assert metrics["livebench_reasoning"]["value"] == pytest.approx(LATEST["livebench_reasoning"])
    assert metrics["livebench_overall"]["value"] == pytest.approx(sum(LATEST.values()) / 2)
    assert metrics["livebench_math/math_comp"]["value"] == 50 and metrics["livebench_math/math_comp"]["stderr"] == 50
    assert metrics["livebench_reasoning/zebra_puzzle"]["value"] == pytest.approx(100 / 3)
    assert metrics["livebench_unscored"]["value"] == 1 and "livebench_reasoning/sudoku" not in metrics
    assert metrics["livebench_score"]["count"] == 6  # per-sample 0-1 values: the unscored question has none
    section = summary["summary_generators"]["livebench"]
    assert section["unscored"]["by_task"]["reasoning/sudoku"]["count"] == 1 and section["complete"] is False
    assert section["overall"] == pytest.approx(sum(LATEST.values()) / 2, abs=1e-3)
    assert {k: v["value"] for k, v in metrics.items()} == {k: v["value"] for k, v in first["tasks"][0]["metrics"].items()}
    results = (tmp_path / "runs" / "lb" / "results.md").read_text()
    for name in ("livebench_overall", "livebench_math", "livebench_reasoning/web_of_lies_v2", "livebench_unscored"):
        assert f"| {name} " in results
    assert f"{sum(LATEST.values()) / 2:.4f}" in results
    html = (tmp_path / "runs" / "lb" / "report.html").read_text()
    assert "livebench_overall" in html and "livebench_reasoning/zebra_puzzle" in html
    assert score_metric_names(summary["tasks"]) == ["livebench_score"]  # 0-100 numbers and counts: not 0-1 bars
    records = [json.loads(line) for line in (tmp_path / "runs" / "lb" / "samples.jsonl").read_text().splitlines()]
    r4 = next(r for r in records if r["sample_id"] == "r4")
    assert r4["metrics"] == {} and r4["metric_details"]["livebench"]["status"] == "unscored"


def test_livebench_release_option(tmp_path: Path) -> None:
    root = write_copy(tmp_path / "copy", "repo")
    with run_server_in_thread(TestServerConfig(script=Scripted(), verbatim=True)) as server:
        assert _eval(server.base_url, root, tmp_path / "runs", "--livebench-release", B) in (0, None)
    records = (tmp_path / "runs" / "lb" / "samples.jsonl").read_text().splitlines()
    assert sorted(json.loads(r)["sample_id"] for r in records) == ["m1", "m2", "m3", "m4", "r1", "r2"]
    summary = json.loads((tmp_path / "runs" / "lb" / "summary.json").read_text())
    assert summary["summary_generators"]["livebench"]["release"] == B
    # math_comp [1, 0, 1] -> 66.7, olympiad 33.3; reasoning: wol2 100 only
    assert summary["tasks"][0]["metrics"]["livebench_overall"]["value"] == pytest.approx(((200 / 3 + 100 / 3) / 2
                                                                                          + 100) / 2)


# -- bad input -------------------------------------------------------------------------------------------------
def test_missing_category_folder_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_copy(tmp_path / "copy", "repo")
    code = _eval("http://127.0.0.1:9/v1", root, tmp_path / "runs", args={"subset_list": ["math", "coding"]})
    err = capsys.readouterr().err
    assert code == 2
    assert "no folder for LiveBench category 'coding'" in err and str(root) in err and "subset_list" in err
    with pytest.raises(DatasetError, match="no question files for category 'math'"):
        (tmp_path / "empty" / "math").mkdir(parents=True)
        list(iter_samples(_spec(tmp_path / "empty", subsets=["math"])))


def test_unknown_category_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_copy(tmp_path / "copy", "repo")
    assert _eval("http://127.0.0.1:9/v1", root, tmp_path / "runs", args={"subset_list": ["maths"]}) == 2
    err = capsys.readouterr().err
    assert "unknown subset 'maths'" in err and "dataset_args.livebench.subset_list" in err and "'math'" in err
    with pytest.raises(ConfigError, match="unknown LiveBench category 'logic'") as exc:
        list(iter_samples(_spec(root, subsets=["logic"])))
    assert "params.subsets" in str(exc.value)


@pytest.mark.parametrize("extra, args, needle", [
    (["--livebench-release", "Nov 2024"], None, "--livebench-release 'Nov 2024' is not a release"),
    ([], {"preprocess_kwargs": {"release": "2024/11/25"}}, "params.preprocess_kwargs.release"),
])
def test_bad_release_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str],
                                      args: dict[str, Any] | None, needle: str) -> None:
    root = write_copy(tmp_path / "copy", "repo")
    assert _eval("http://127.0.0.1:9/v1", root, tmp_path / "runs", *extra, args=args) == 2
    assert needle in capsys.readouterr().err


def test_release_option_without_livebench(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["eval", "--model", "dummy", "--datasets", "gsm8k", "--livebench-release", C, "--dry-run"])
    assert done.value.code == 2 and "add --datasets livebench" in capsys.readouterr().err


@pytest.mark.parametrize("change, needle", [
    ({"turns": ["one", "two"]}, "multi-turn"),
    ({"category": "math"}, "is in the reasoning folder but says category 'math'"),
    ({"livebench_release_date": None}, "has no livebench_release_date"),
])
def test_malformed_questions_are_named(tmp_path: Path, change: dict[str, Any], needle: str) -> None:
    (tmp_path / "reasoning").mkdir()
    write_jsonl(tmp_path / "reasoning" / "test.jsonl", [{**QUESTIONS[4], **change}])
    with pytest.raises(DatasetError, match=needle) as exc:
        list(iter_samples(_spec(tmp_path, subsets=["reasoning"], preprocess_kwargs={"release": C})))
    assert "r1" in str(exc.value) and str(tmp_path) in str(exc.value)


def test_hub_copy_unreachable_offline_says_how_to_make_a_local_copy(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(SystemExit) as done:
        main(["eval", "--model", "dummy", "--datasets", "livebench", "--dataset-args",
              '{"livebench": {"subset_list": ["math"]}}', "--work-dir", str(tmp_path / "runs"), "--progress", "off"])
    err = capsys.readouterr().err
    assert done.value.code == 2 and "'livebench/math' cannot be downloaded" in err
    assert "--local-dir DIR/math" in err and '{"livebench": {"local_path": "DIR"}}' in err

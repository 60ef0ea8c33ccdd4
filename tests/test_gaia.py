"""GAIA: the leaderboard's quasi-exact match on fixtures derived from its rules, the hub layout from a local copy
(attached files included), clear errors, and `gage eval` end to end with accuracy per level."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gage_eval.benchmarks.gaia.scorer import extract_final_answer, question_scorer
from gage_eval.cli.app import main
from gage_eval.errors import DatasetError
from gage_eval.testing.server import TestServerConfig, run_server_in_thread

from .conftest import read_jsonl, write_jsonl

# (model answer, ground truth, verdict, the rule of scorer.py that decides it)
FIXTURES = [
    ("17", "17", True, "number: same float"),
    ("17.0", "17", True, "number: parsed as floats"),
    ("$1,000", "1000", True, "number: $ and , are removed"),
    ("45%", "45", True, "number: % is removed"),
    (" 3 ", "3", True, "number: float() accepts surrounding spaces"),
    ("1e3", "1000", True, "number: float() reads exponents"),
    ("3.14159", "3.14", False, "number: exact float equality, no tolerance"),
    ("seventeen", "17", False, "number: an unparsable answer is +inf"),
    ("17 apples", "17", False, "number: units other than $ % , are not removed"),
    ("-5", "-5", True, "number: negative"),
    ("inf", "inf", True, "number: 'inf' is a float for both"),
    ("Sea Gull", "seagull", True, "string: whitespace removed, case folded"),
    ("St. Louis", "St Louis", True, "string: punctuation removed"),
    ("sea-gull!", "seagull", True, "string: punctuation removed"),
    ("the seagull", "seagull", False, "string: articles are not removed"),
    ("Paris", "London", False, "string: different"),
    ("café", "cafe", False, "string: accents are not folded"),
    ("apple, banana", "apple,banana", True, "list: items compared without whitespace"),
    ("apple;banana", "apple, banana", True, "list: ; and , both separate"),
    ("Apple, BANANA", "apple, banana", True, "list: case folded"),
    ("banana, apple", "apple, banana", False, "list: order matters"),
    ("apple, banana, cherry", "apple, banana", False, "list: lengths differ"),
    ("St. Louis, Paris", "St Louis, Paris", False, "list: punctuation is kept inside list items"),
    ("1, 2.0, $3", "1, 2, 3", True, "list: numeric items compared as numbers"),
    ("1, two", "1, 2", False, "list: numeric item unparsable"),
    ("a,", "a,", True, "list: a trailing separator gives an empty last item on both sides"),
    ("1,000", "1000", True, "number: the comma of a thousands separator is removed"),
    (None, "None", True, "a missing answer is the string 'None'"),
    (None, "5", False, "a missing answer is not a number"),
    ("", "", True, "string: both empty"),
]


@pytest.mark.parametrize(("answer", "truth", "verdict", "rule"), FIXTURES, ids=[f[3] for f in FIXTURES])
def test_quasi_exact_match_follows_the_leaderboard_rules(answer: str | None, truth: str, verdict: bool,
                                                         rule: str) -> None:
    assert question_scorer(answer, truth) is verdict, rule


def test_final_answer_is_the_text_after_the_last_template() -> None:
    assert extract_final_answer("I think 3.\nFINAL ANSWER: 4") == "4"
    assert extract_final_answer("FINAL ANSWER: a\nthen\nFinal Answer: **Paris**") == "Paris"
    assert extract_final_answer("no template here") is None


def _tasks() -> list[dict[str, Any]]:
    return [
        {"task_id": "t1", "Question": "What is 2+2?", "Level": 1, "Final answer": "4", "file_name": "",
         "Annotator Metadata": {"Steps": "add"}},
        {"task_id": "t2", "Question": "Capital of France?", "Level": "1", "Final answer": "Paris", "file_name": ""},
        {"task_id": "t3", "Question": "Sum the numbers in the file.", "Level": 2, "Final answer": "10",
         "file_name": "t3.txt"},
        {"task_id": "t4", "Question": "List two fruits.", "Level": 3, "Final answer": "apple, banana",
         "file_name": ""},
    ]


def _snapshot(tmp_path: Path, tasks: list[dict[str, Any]] | None = None, split_name: str = "validation") -> Path:
    """The README's layout: DIR/2023/validation/metadata.jsonl and the attached files beside it."""
    root = tmp_path / "GAIA"
    split = root / "2023" / split_name
    split.mkdir(parents=True)
    write_jsonl(split / "metadata.jsonl", tasks or _tasks())
    (split / "t3.txt").write_text("1 2 3 4\n")
    return root


def test_readme_local_copy_layout_loads(tmp_path: Path) -> None:
    from gage_eval.config.models import DatasetSpec
    from gage_eval.config.templates import find_template, load_template
    from gage_eval.datasets import iter_samples

    readme = (Path(__file__).resolve().parents[1] / "src/gage_eval/benchmarks/gaia/README.md").read_text()
    assert "**Local copy**" in readme and "`DIR/2023/validation/metadata.jsonl`" in readme
    ds = load_template(find_template("gaia")).definition["datasets"][0]
    root = _snapshot(tmp_path)
    for path in (root, root / "2023" / "validation", root / "2023" / "validation" / "metadata.jsonl"):
        samples = list(iter_samples(DatasetSpec(**{**ds, "params": {**ds["params"], "path": str(path)}})))
        assert [s.metadata["level"] for s in samples] == ["1", "1", "2", "3"]
        attached = samples[2]
        assert attached.inputs["files"] == [str((root / "2023/validation/t3.txt").resolve())]
        assert attached.messages[-1].text().endswith(f"Attached file: {attached.inputs['files'][0]}")
        assert samples[0].messages[0].role == "system" and "FINAL ANSWER" in samples[0].messages[0].text()
    (root / "2023/validation/t3.txt").unlink()
    with pytest.raises(DatasetError) as err:
        list(iter_samples(DatasetSpec(**{**ds, "params": {**ds["params"], "path": str(root)}})))
    assert "attaches t3.txt" in str(err.value) and "beside metadata.jsonl" in err.value.fix
    with pytest.raises(DatasetError) as err:
        list(iter_samples(DatasetSpec(**{**ds, "params": {**ds["params"], "path": str(tmp_path)}})))
    assert "no metadata.jsonl for 2023/validation" in str(err.value)


def test_hidden_answers_are_a_clear_error(tmp_path: Path) -> None:
    from gage_eval.config.models import DatasetSpec
    from gage_eval.datasets import iter_samples

    root = _snapshot(tmp_path, [{"task_id": "x", "Question": "?", "Level": 1, "Final answer": "?", "file_name": ""}],
                     split_name="test")
    spec = DatasetSpec(dataset_id="gaia", loader="gaia", hub_params={"split": "test"},
                       params={"path": str(root), "preprocess": "gaia"})
    with pytest.raises(DatasetError) as err:
        list(iter_samples(spec))
    assert "test split's answers are hidden" in str(err.value)


def test_gage_eval_scores_gaia_per_level(tmp_path: Path) -> None:
    replies = {"What is 2+2?": "2 plus 2 is 4.\nFINAL ANSWER: 4", "Capital of France?": "FINAL ANSWER: Lyon",
               "Sum the numbers": "FINAL ANSWER: $10", "List two fruits.": "FINAL ANSWER: Apple; banana"}
    root = _snapshot(tmp_path)
    with run_server_in_thread(TestServerConfig(script=replies, verbatim=True)) as server:
        with pytest.raises(SystemExit) as done:
            main(["eval", "--model", "test-model", "--api-url", server.base_url, "--datasets", "gaia",
                  "--dataset-args", json.dumps({"gaia": {"local_path": str(root)}}),
                  "--work-dir", str(tmp_path / "runs"), "--run-id", "gaia", "--progress", "off"])
    assert done.value.code in (0, None)
    run = tmp_path / "runs" / "gaia"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["metrics"]["gaia_exact_match"]["value"] == 0.75
    levels = next(v for k, v in summary["summary_generators"].items() if k.startswith("metric_breakdown"))
    assert {k: v["gaia_exact_match"]["value"] for k, v in levels.items()} == {"1": 0.5, "2": 1.0, "3": 1.0}
    rows = {r["sample_id"]: r for r in read_jsonl(run / "samples.jsonl")}
    assert rows["t2"]["metric_details"]["gaia_exact_match"]["answer"] == "Lyon"

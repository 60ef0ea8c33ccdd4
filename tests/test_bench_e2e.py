"""Every builtin benchmark template end to end on a small fixture in its dataset's real format: through
`gage eval` (one multi-task run on a tiny local checkpoint) and through `gage run` with a RunConfig."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from gage_eval.cli.app import main
from gage_eval.config.templates import available_templates, is_benchmark_template
from gage_eval.testing.server import TestServerConfig, run_server_in_thread

from .conftest import write_jsonl
from .mm_fixtures import MULTIMODAL
from .tiny_model import build_tiny_llama

pytest.importorskip("torch")

_HUMANEVAL = {"task_id": "HumanEval/0", "prompt": "def add(a, b):\n    \"\"\"Add two numbers.\"\"\"\n",
              "canonical_solution": "    return a + b\n", "entry_point": "add",
              "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n"}
_MC4 = {"A": "one", "B": "two", "C": "three", "D": "four"}

FIXTURES: dict[str, list[dict[str, Any]]] = {
    "arc_easy": [{"id": "a1", "question": "What is 2?", "choices": {"text": ["one", "two", "three"],
                                                                     "label": ["A", "B", "C"]}, "answerKey": "B"}],
    "arc_challenge": [{"id": "a1", "question": "What is 3?", "choices": {"text": ["one", "two", "three"],
                                                                          "label": ["1", "2", "3"]}, "answerKey": "3"}],
    "hellaswag": [{"ind": 1, "activity_label": "Cooking", "ctx_a": "A man cuts bread.", "ctx_b": "then he",
                   "ctx": "A man cuts bread. then he", "endings": ["eats it.", "flies.", "sings.", "runs."],
                   "split": "val", "split_type": "indomain", "label": "0", "source_id": "x"}],
    "piqa": [{"goal": "Open a jar", "sol1": "Twist the lid.", "sol2": "Eat the lid.", "label": 0}],
    "truthfulqa_mc1": [{"question": "Do cats land on feet?",
                        "mc1_targets": {"choices": ["Not always.", "Always."], "labels": [1, 0]},
                        "mc2_targets": {"choices": ["Not always.", "Often.", "Always."], "labels": [1, 1, 0]}}],
    "mmlu": [{"question": "What is 2+2?", "subject": "elementary_mathematics", "choices": ["3", "4", "5", "6"],
              "answer": 1}],
    "cmmlu": [{"Question": "二加二等于几？", **_MC4, "Answer": "B", "subject": "elementary_mathematics"}],
    "ceval": [{"id": 0, "question": "二加二等于几？", **_MC4, "answer": "B", "explanation": "",
               "subject": "high_school_mathematics"}],
    "gpqa_diamond": [{"Question": "Which particle is charged?", "Correct Answer": "electron",
                      "Incorrect Answer 1": "neutron", "Incorrect Answer 2": "photon",
                      "Incorrect Answer 3": "neutrino", "Record ID": "rec1"}],
    "gsm8k": [{"question": "Tom has 2 apples and buys 3. How many?", "answer": "2 + 3 = 5\n#### 5"}],
    "math500": [{"problem": "What is $1+1$?", "solution": "It is $\\boxed{2}$.", "answer": "2",
                 "subject": "Algebra", "level": 1, "unique_id": "test/algebra/1.json"}],
    "math": [{"problem": "What is $1+1$?", "level": "Level 1", "type": "Algebra",
              "solution": "It is $\\boxed{2}$."}],
    "humaneval": [_HUMANEVAL],
    "mbpp": [{"task_id": 11, "text": "Write a function to add two numbers.", "code": "def add(a, b):\n    return a + b",
              "test_list": ["assert add(1, 2) == 3"], "test_setup_code": "", "challenge_test_list": []}],
    "ifeval": [{"key": 1, "prompt": "Write in lowercase.", "instruction_id_list": ["change_case:english_lowercase"],
                "kwargs": [{}]}],
    "livebench": [{"question_id": "lb1", "category": "reasoning", "task": "web_of_lies_v2",
                   "turns": ["Does Ann lie? Does Bob lie? Does Cy lie?"], "ground_truth": "yes, no, yes",
                   "livebench_release_date": "2024-06-24", "livebench_removal_date": ""}],
    "truthfulqa_gen": [{"type": "Adversarial", "category": "Myths", "question": "Do cats land on feet?",
                        "best_answer": "Not always", "correct_answers": ["Not always"],
                        "incorrect_answers": ["Always"], "source": "x"}],
}
FIXTURES["truthfulqa_mc2"] = FIXTURES["truthfulqa_mc1"]
JUDGED = {"alpaca_eval2", "truthfulqa_gen"}
# Their hub copies are one folder per subject (tested in their own tests); here: one file each.
SUBJECT_FOLDERS = {"mmlu", "cmmlu", "ceval", "math"}


# Benchmarks whose samples need more than a record (a repository at a commit…): each has its own end-to-end
# test file, which also checks its README's local-copy layouts.
OWN_E2E = {"swebench_lite": "test_swebench.py", "swebench_verified": "test_swebench.py",
           "swebench_pro": "test_swebench.py", "swebench_lite_agent": "test_swebench_agent.py"}
# Agent benchmarks answer with tool calls or browse files, which a tiny local checkpoint cannot: their end-to-end
# and local-copy tests are their own (tests/test_bfcl_*.py, tests/test_gaia.py, tests/test_appworld.py).
AGENT_BENCHMARKS = ("bfcl_", "gaia", "appworld")


def _benchmarks() -> list[str]:
    return sorted(name for name, versions in available_templates().items()
                  if is_benchmark_template(versions[max(versions)]) and name not in OWN_E2E
                  and not name.startswith(AGENT_BENCHMARKS))


def _split(name: str) -> str:
    versions = available_templates()[name]
    definition = yaml.safe_load(versions[max(versions)].read_text())["definition"]
    return definition["datasets"][0].get("hub_params", {}).get("split", "test")


def _fixture(tmp_path: Path, name: str) -> Path:
    if name == "alpaca_eval2":
        path = tmp_path / "alpaca_eval.json"
        path.write_text(json.dumps([{"instruction": "Say hi.", "output": "Hi!", "generator": "gpt4_turbo",
                                     "dataset": "x"}] * 2))
        return path
    records = FIXTURES[name] * 2
    if name in ("humaneval", "mbpp"):
        records = [dict(r, task_id=f"{r['task_id']}-{i}") if name == "humaneval" else dict(r, task_id=11 + i)
                   for i, r in enumerate(records)]
    return write_jsonl(tmp_path / f"{name}.jsonl", records)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_llama(tmp_path_factory.mktemp("tiny"), 512)


@pytest.fixture(scope="module")
def judge_url() -> Any:
    def judge(body: dict[str, Any]) -> str:
        return "[[B]]" if "Assistant A" in json.dumps(body["messages"]) else "[[YES]]"

    with run_server_in_thread(TestServerConfig(script=judge)) as server:
        yield server.base_url


def test_every_benchmark_has_a_fixture() -> None:
    # The vision benchmarks need a vision-language model: tests/test_mm_benchmarks.py runs them end to end.
    assert set(_benchmarks()) <= set(FIXTURES) | {"alpaca_eval2"} | set(MULTIMODAL)
    assert len(_benchmarks()) >= 17


def test_gage_eval_runs_every_benchmark_on_a_local_checkpoint(tmp_path: Path, tiny_model: Path,
                                                              judge_url: str) -> None:
    names = [n for n in _benchmarks() if n not in JUDGED and n not in MULTIMODAL]
    # half the benchmarks find their copy in --dataset-dir (EvalScope's dataset_dir), half get a local_path
    local = tmp_path / "local"
    local.mkdir()
    args = {}
    for i, n in enumerate(names):
        path = _fixture(tmp_path, n)
        if i % 2 and n not in SUBJECT_FOLDERS:  # a snapshot-like folder holding the split the template reads
            (local / n).mkdir()
            for split in {_split(n), "train"}:  # train: where GSM8K's few-shot examples come from
                (local / n / f"{split}{path.suffix}").write_bytes(path.read_bytes())
        else:
            args[n] = {"local_path": str(path)}
            if n == "gsm8k":  # 5-shot from train: a single test file cannot be its own few-shot source
                args[n]["few_shot_path"] = str(path)
    with pytest.raises(SystemExit) as done:
        main(["eval", "--model", str(tiny_model), "--datasets", *names, "--limit", "2", "--dataset-dir", str(local),
              "--generation-config", "do_sample=false,max_new_tokens=8", "--dataset-args", json.dumps(args),
              "--work-dir", str(tmp_path / "runs"), "--run-id", "all", "--progress", "off"])
    assert done.value.code in (0, None)
    summary = json.loads((tmp_path / "runs" / "all" / "summary.json").read_text())
    assert summary["failures"]["total"] == 0, summary["failures"]
    tasks = {t["task_id"]: t for t in summary["tasks"]}
    assert set(tasks) == set(names)
    for name, task in tasks.items():
        assert task["sample_count"] == 2 and task["metrics"], name
    assert set(tasks["mmlu"]["metrics"]) >= {"acc", "acc_norm"}  # a local checkpoint: loglikelihood scoring
    by_subject = summary["summary_generators"]["metric_breakdown:mmlu"]
    assert by_subject["elementary_mathematics"]["acc"]["count"] == 2  # MMLU per subject
    html = (tmp_path / "runs" / "all" / "report.html").read_text()
    assert 'id="metric_breakdown-mmlu"' in html and "elementary_mathematics" in html


@pytest.mark.parametrize("name", sorted(set(FIXTURES) - JUDGED))
def test_gage_run_with_a_run_config_on_the_template(tmp_path: Path, tiny_model: Path, name: str) -> None:
    run_config = {"kind": "RunConfig", "base_task": f"builtin/{name}", "runtime": {
        "backends": [{"backend_id": "model", "type": "hf", "config": {"model_path": str(tiny_model),
                                                                       "max_new_tokens": 8}}],
        "role_adapters": [{"adapter_id": "dut", "params": {"generation": {"max_tokens": 8}}}],
        "datasets": [{"dataset_id": name, "params": {"path": str(_fixture(tmp_path, name)), "preprocess_kwargs": {
            "num_fewshot": 0}}}]}}
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(run_config))
    with pytest.raises(SystemExit) as done:
        main(["run", str(path), "--output-dir", str(tmp_path / "runs"), "--run-id", name, "--progress", "off"])
    assert done.value.code in (0, None)
    summary = json.loads((tmp_path / "runs" / name / "summary.json").read_text())
    assert summary["sample_count"] == 2 and summary["failures"]["total"] == 0
    assert summary["run"]["template"].startswith(f"{name}@")


@pytest.mark.parametrize("name", sorted(JUDGED))
def test_judged_benchmarks_run_with_a_judge(tmp_path: Path, tiny_model: Path, judge_url: str, name: str) -> None:
    with pytest.raises(SystemExit) as done:
        main(["eval", "--model", str(tiny_model), "--datasets", name, "--generation-config", "max_new_tokens=8",
              "--dataset-args", json.dumps({name: {"local_path": str(_fixture(tmp_path, name))}}),
              "--judge-model-args", json.dumps({"api_url": judge_url, "model_id": "judge"}),
              "--work-dir", str(tmp_path / "runs"), "--run-id", name, "--progress", "off"])
    assert done.value.code in (0, None)
    summary = json.loads((tmp_path / "runs" / name / "summary.json").read_text())
    assert summary["sample_count"] == 2 and summary["failures"]["total"] == 0

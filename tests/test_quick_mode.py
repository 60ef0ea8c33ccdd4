"""`gage eval` / `run_task`: EvalScope-style quick mode compiles to one PipelineConfig and runs it."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from gage_eval.cli.app import main
from gage_eval.config.quick import compile_quick, generation_params, parse_kv, quick_task
from gage_eval.errors import ConfigError
from gage_eval.testing.server import TestServerConfig, run_server_in_thread

from .conftest import write_jsonl


def _arc_file(tmp_path: Path, n: int = 8) -> Path:
    records = [{"id": f"Mercury_{i}", "question": f"Which planet is number {i}?",
                "choices": {"text": ["Mars", "Venus", "Earth", "Jupiter"], "label": ["A", "B", "C", "D"]},
                "answerKey": "ABCD"[i % 4]} for i in range(n)]
    return write_jsonl(tmp_path / "arc.jsonl", records)


def _ifeval_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "ifeval.jsonl", [
        {"key": 1, "prompt": "Write a poem in all lowercase letters.",
         "instruction_id_list": ["change_case:english_lowercase"], "kwargs": [{}]},
        {"key": 2, "prompt": "Answer in at least 5 words.",
         "instruction_id_list": ["length_constraints:number_words"], "kwargs": [{"num_words": 5,
                                                                                 "relation": "at least"}]}])


def test_eval_and_run_task_compile_to_the_same_pipeline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    arc = _arc_file(tmp_path)
    args = {"arc_easy": {"few_shot_num": 0, "local_path": str(arc)}}
    with pytest.raises(SystemExit) as done:
        main(["eval", "--model", "http://127.0.0.1:9/v1", "--model-id", "served", "--datasets", "arc_easy",
              "ifeval", "--limit", "3", "--generation-config", "do_sample=false,max_new_tokens=64",
              "--dataset-args", json.dumps(args), "--dry-run"])
    assert done.value.code in (0, None)
    printed = yaml.safe_load(capsys.readouterr().out)
    api = compile_quick(quick_task({"model": "http://127.0.0.1:9/v1", "model_id": "served",
                                    "datasets": ["arc_easy", "ifeval"], "limit": 3, "dataset_args": args,
                                    "generation_config": {"do_sample": False, "max_new_tokens": 64}}))
    assert printed == api
    assert [t["task_id"] for t in api["tasks"]] == ["arc_easy", "ifeval"]
    assert all(t["max_samples"] == 3 for t in api["tasks"])
    assert api["backends"][0] == {"backend_id": "model", "type": "openai_http",
                                  "config": {"base_url": "http://127.0.0.1:9/v1", "model": "served"}}
    dut = next(a for a in api["role_adapters"] if a["adapter_id"] == "dut_arc_easy")
    # a chat endpoint cannot return prompt log-probabilities: multiple choice is scored generatively
    assert "mode" not in dut["params"]
    assert dut["params"]["generation"]["temperature"] == 0 and dut["params"]["generation"]["max_tokens"] == 64
    arc_ds = next(d for d in api["datasets"] if d["dataset_id"] == "arc_easy")
    assert arc_ds["params"]["path"] == str(arc) and arc_ds["params"]["preprocess_kwargs"]["style"] == "chat"


def test_local_checkpoint_scores_multiple_choice_by_loglikelihood(tmp_path: Path) -> None:
    cfg = compile_quick(quick_task({"model": str(tmp_path), "datasets": "arc_easy mmlu",
                                    "dataset_args": {"mmlu": {"few_shot_num": 5, "few_shot_random": False}}}))
    assert cfg["backends"][0] == {"backend_id": "model", "type": "hf",
                                  "config": {"model_path": str(tmp_path), "batch_size": 8, "use_chat_template": False}}
    assert cfg["execution"]["concurrency"] == 16  # enough samples in flight to fill the model's batches
    sized = compile_quick(quick_task({"model": str(tmp_path), "datasets": ["arc_easy"], "eval_batch_size": 32}))
    assert sized["backends"][0]["config"]["batch_size"] == 32 and sized["execution"]["concurrency"] == 64
    dut = next(a for a in cfg["role_adapters"] if a["adapter_id"] == "dut_arc_easy")
    assert dut["params"]["mode"] == "loglikelihood"
    mmlu = next(d for d in cfg["datasets"] if d["dataset_id"] == "mmlu")
    assert mmlu["params"]["preprocess_kwargs"]["num_fewshot"] == 5
    assert mmlu["params"]["preprocess_kwargs"]["fewshot_sampler"] == "first_n"
    few = compile_quick(quick_task({"model": str(tmp_path), "datasets": ["mmlu"],
                                    "dataset_args": {"mmlu": {"subset_list": ["anatomy", "astronomy"]}}}))
    assert few["datasets"][0]["params"]["subsets"] == ["anatomy", "astronomy"]
    with pytest.raises(ConfigError, match="anatomyy"):  # CMMLU's template lists its subjects: checked
        compile_quick(quick_task({"model": str(tmp_path), "datasets": ["cmmlu"],
                                  "dataset_args": {"cmmlu": {"subset_list": ["anatomyy"]}}}))
    forced = compile_quick(quick_task({"model": str(tmp_path), "datasets": ["arc_easy"], "eval_mode": "generate"}))
    assert "mode" not in forced["role_adapters"][0]["params"]
    # generated letters need the prompt that lists the options
    assert forced["datasets"][0]["params"]["preprocess_kwargs"]["style"] == "chat"


def test_quick_mode_errors_name_the_option_and_fix() -> None:
    with pytest.raises(ConfigError) as err:
        compile_quick(quick_task({"model": "dummy", "datasets": ["gsm8kk"]}))
    assert "datasets[0]" in err.value.render()
    with pytest.raises(ConfigError) as err:
        compile_quick(quick_task({"model": "dummy", "datasets": ["ifeval"], "dataset_args": {"mmlu": {}}}))
    assert "dataset_args.mmlu" in err.value.render()
    with pytest.raises(ConfigError) as err:
        compile_quick(quick_task({"model": "dummy", "datasets": ["ifeval"],
                                  "dataset_args": {"ifeval": {"few_shot_nums": 3}}}))
    assert "few_shot_num" in err.value.render()
    with pytest.raises(ConfigError) as err:
        compile_quick(quick_task({"model": "dummy", "datasets": ["ifeval"],
                                  "dataset_args": {"ifeval": {"few_shot_num": "five"}}}))
    assert "dataset_args.ifeval.few_shot_num" in err.value.render()
    with pytest.raises(ConfigError):
        parse_kv("do_sample", "--generation-config")
    assert parse_kv("do_sample=false,max_new_tokens=512,top_p=0.9", "x") == {"do_sample": False,
                                                                             "max_new_tokens": 512, "top_p": 0.9}
    assert generation_params({"do_sample": False, "max_new_tokens": 8}) == {"temperature": 0, "max_tokens": 8}
    with pytest.raises(SystemExit) as exit_:
        main(["eval", "--model", "dummy", "--datasets", "ifeval", "--dataset-args", "{not json"])
    assert exit_.value.code == 2


def _answers(body: dict[str, Any]) -> str:
    text = body["messages"][-1]["content"]
    if "lowercase" in text:
        return "roses are red, violets are blue"
    if "5 words" in text:
        return "Too short."
    return "The answer is B."


def test_gage_eval_runs_two_benchmarks_against_a_served_model(tmp_path: Path) -> None:
    arc, ifeval = _arc_file(tmp_path), _ifeval_file(tmp_path)
    with run_server_in_thread(TestServerConfig(script=_answers)) as server:
        with pytest.raises(SystemExit) as done:
            main(["eval", "--model", "test-model", "--api-url", server.base_url, "--datasets", "arc_easy", "ifeval",
                  "--dataset-args", json.dumps({"arc_easy": {"local_path": str(arc)},
                                                "ifeval": {"local_path": str(ifeval)}}),
                  "--work-dir", str(tmp_path / "runs"), "--run-id", "quick", "--progress", "off"])
    assert done.value.code in (0, None)
    summary = json.loads((tmp_path / "runs" / "quick" / "summary.json").read_text())
    tasks = {t["task_id"]: t for t in summary["tasks"]}
    assert tasks["arc_easy"]["metrics"]["acc"]["value"] == 0.25  # always "B": right on 2 of 8
    assert tasks["arc_easy"]["metrics"]["acc"]["count"] == 8
    assert tasks["ifeval"]["metrics"]["prompt_level_strict_acc"]["value"] == 0.5


def test_run_task_api_key_reaches_the_server_and_no_artifact(tmp_path: Path) -> None:
    import gage_eval

    secret = "sk-quick-SECRET-4242"
    ifeval = _ifeval_file(tmp_path)
    with run_server_in_thread(TestServerConfig(script=_answers, require_api_key=secret)) as server:
        result = gage_eval.run_task({"model": "served", "api_url": server.base_url, "api_key": secret,
                                     "datasets": ["ifeval"], "dataset_args": {"ifeval": {"local_path": str(ifeval)}},
                                     "work_dir": str(tmp_path / "runs"), "run_id": "key"}, progress="off")
    assert result.summary["failures"]["total"] == 0  # the server accepted the key
    assert result.summary["run"]["templates"] == ["ifeval@V1"]
    leaked = [p for p in result.run_dir.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
    assert leaked == []


def test_hub_benchmark_offline_says_how_to_point_quick_mode_at_a_local_copy(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import gage_eval
    from gage_eval.errors import DatasetError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(DatasetError) as err:
        gage_eval.run_task({"model": "dummy", "datasets": ["gsm8k"], "limit": 1, "work_dir": str(tmp_path)},
                           progress="off")
    text = err.value.render()
    assert "openai/gsm8k" in text and "--dataset-dir" in text and "local_path" in text


def test_code_benchmarks_keep_completion_mode_for_base_models_and_drop_it_for_chat_models(tmp_path: Path) -> None:
    def dut(cfg: dict[str, Any]) -> dict[str, Any]:
        return next(a for a in cfg["role_adapters"] if a["adapter_id"] == "dut_humaneval")["params"]

    base = dut(compile_quick(quick_task({"model": str(tmp_path), "datasets": ["humaneval"]})))
    assert base["mode"] == "completion" and "\ndef" in base["generation"]["stop"]
    chat = dut(compile_quick(quick_task({"model": "m", "api_url": "http://127.0.0.1:9/v1", "datasets": ["humaneval"]})))
    assert "mode" not in chat and "stop" not in chat["generation"]  # a whole fenced function is not cut off


def test_loglikelihood_only_benchmark_on_a_chat_endpoint_is_refused() -> None:
    with pytest.raises(ConfigError) as err:
        compile_quick(quick_task({"model": "m", "api_url": "http://127.0.0.1:9/v1", "datasets": ["truthfulqa_mc2"]}))
    assert "api=completions" in err.value.render()
    ok = compile_quick(quick_task({"model": "m", "api_url": "http://127.0.0.1:9/v1", "datasets": ["truthfulqa_mc2"],
                                   "model_args": {"api": "completions"}}))
    assert ok["role_adapters"][0]["params"]["mode"] == "loglikelihood"

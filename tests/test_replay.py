"""Engine replay (config `replay:`): an evaluate run takes the model's answers from a generate run's
samples.jsonl, with no connection to the model's server, and judges / scores them as usual."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from gage_eval.api import run
from gage_eval.cli.app import main
from gage_eval.config.phases import evaluate_with_replay, generate_only
from gage_eval.testing.server import TestServerConfig, run_server_in_thread

from .conftest import read_jsonl, write_jsonl


def _judged_pipeline(data: Path, model_url: str, judge_url: str) -> dict[str, Any]:
    return {
        "kind": "PipelineConfig", "metadata": {"name": "replay"},
        "datasets": [{"dataset_id": "qa", "loader": "jsonl", "params": {"path": str(data)}}],
        "backends": [{"backend_id": "model", "type": "openai_http", "config": {"base_url": model_url, "model": "m"}},
                     {"backend_id": "judge", "type": "openai_http", "config": {"base_url": judge_url, "model": "j"}}],
        "role_adapters": [{"adapter_id": "dut", "role_type": "dut_model", "backend_id": "model"},
                          {"adapter_id": "judge", "role_type": "judge_model", "backend_id": "judge"}],
        "custom": {"steps": [{"step": "inference", "adapter_id": "dut"}, {"step": "judge", "adapter_id": "judge"},
                             {"step": "auto_eval"}]},
        "metrics": ["exact_match", {"metric_id": "score", "implementation": "judge_score"}],
        "execution": {"concurrency": 4},
    }


def _model(body: dict[str, Any]) -> str:
    text = body["messages"][-1]["content"]
    return text.replace("say ", "") if "7" not in text else "wrong"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "qa.jsonl", [{"id": f"q{i}", "prompt": f"say {i}", "label": str(i)}
                                                for i in range(10)])


def test_evaluate_phase_replays_answers_without_the_model_server(tmp_path: Path, data: Path) -> None:
    judge = run_server_in_thread(TestServerConfig(script=lambda body: "Rating: [[7]]"))
    with run_server_in_thread(TestServerConfig(script=_model)) as model, judge as judge_srv:
        full = _judged_pipeline(data, model.base_url, judge_srv.base_url)
        gen = run(generate_only(full), run_id="gen", output_dir=tmp_path, progress="off")
        assert gen.status == "completed" and model.requests > 0 and judge_srv.requests == 0
        model_url = model.base_url
    # the model's server is gone; the judge is a new one
    with run_server_in_thread(TestServerConfig(script=lambda body: "Rating: [[7]]")) as judge_srv:
        full = _judged_pipeline(data, model_url, judge_srv.base_url)
        result = run(evaluate_with_replay(full, str(tmp_path / "gen")), run_id="eval", output_dir=tmp_path,
                     progress="off")
    assert result.status == "completed", result.summary["run"]["error"]
    assert result.metrics["exact_match"]["value"] == pytest.approx(0.9)  # "7" was answered "wrong"
    assert result.metrics["score"]["value"] == pytest.approx(7)
    assert result.summary["run"]["replay"]["records"] == 10
    rows = {r["sample_id"]: r for r in read_jsonl(tmp_path / "eval" / "samples.jsonl")}
    assert rows["q7"]["model_output"]["answer"] == "wrong" and rows["q3"]["model_output"]["answer"] == "3"
    generated = {r["sample_id"]: r for r in read_jsonl(tmp_path / "gen" / "samples.jsonl")}
    assert rows["q3"]["predict_result"] == generated["q3"]["predict_result"]
    assert "model" not in result.summary["runtime_health"]["backends"]  # the dut's backend was never built


def test_missing_and_mismatched_answers_fail_those_samples_only(tmp_path: Path, data: Path) -> None:
    base = {"kind": "PipelineConfig", "metadata": {"name": "r"},
            "datasets": [{"dataset_id": "qa", "loader": "jsonl", "params": {"path": str(data)}}],
            "backends": [{"backend_id": "echo", "type": "dummy", "config": {"mode": "echo"}}],
            "role_adapters": [{"adapter_id": "dut", "role_type": "dut_model", "backend_id": "echo"}],
            "metrics": ["exact_match"]}
    run(base, run_id="gen", output_dir=tmp_path, progress="off", max_samples=6)
    gen_rows = read_jsonl(tmp_path / "gen" / "samples.jsonl")
    gen_rows[0]["sample"]["messages"][0]["content"] = "something else"  # q0 answered another prompt
    write_jsonl(tmp_path / "gen" / "samples.jsonl", gen_rows)
    result = run(evaluate_with_replay(base, str(tmp_path / "gen")), run_id="eval", output_dir=tmp_path,
                 progress="off", max_failure_rate=1)
    failed = {r["sample_id"]: r["error"] for r in read_jsonl(tmp_path / "eval" / "samples.jsonl") if r["error"]}
    assert set(failed) == {"q0", "q6", "q7", "q8", "q9"}
    assert all(e["reason"] == "not generated" and e["fix"] for e in failed.values())
    assert "different prompt" in failed["q0"]["message"] and "no answer" in failed["q6"]["message"]
    assert result.summary["failures"]["total"] == 5


def test_gage_run_replay_from_flag_and_a_missing_source(tmp_path: Path, data: Path, capsys: Any) -> None:
    cfg = {"kind": "PipelineConfig", "metadata": {"name": "r"},
           "datasets": [{"dataset_id": "qa", "loader": "jsonl", "params": {"path": str(data)}}],
           "backends": [{"backend_id": "m", "type": "openai_http",
                         "config": {"base_url": "http://127.0.0.1:9/v1", "model": "gone"}}],
           "role_adapters": [{"adapter_id": "dut", "role_type": "dut_model", "backend_id": "m"}],
           "metrics": ["exact_match"]}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(SystemExit) as err:
        main(["run", str(path), "--output-dir", str(tmp_path), "--run-id", "e", "--replay-from",
              str(tmp_path / "nothing"), "--progress", "off"])
    assert err.value.code == 2 and "no samples.jsonl" in capsys.readouterr().err
    gen = tmp_path / "gen"
    gen.mkdir()
    write_jsonl(gen / "samples.jsonl", [
        {"task_id": "r", "sample_id": f"q{i}", "status": "ok",
         "sample": {"messages": [{"role": "user", "content": f"say {i}"}], "inputs": {"prompt": f"say {i}"}},
         "predict_result": [{"answer": str(i)}]} for i in range(10)])
    with pytest.raises(SystemExit) as done:  # the backend at port 9 is never contacted: no pre-flight failure
        main(["run", str(path), "--output-dir", str(tmp_path), "--run-id", "e2", "--replay-from", str(gen),
              "--progress", "off"])
    assert done.value.code == 0
    summary = json.loads((tmp_path / "e2" / "summary.json").read_text())
    assert summary["metrics"]["exact_match"]["value"] == 1.0

"""End-to-end behaviour of the engine on the dummy backend: artifacts, policies, multi-task, roles."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import gage_eval
from gage_eval.registry import registry
from tests.conftest import pipeline, read_jsonl


def _run(cfg: dict[str, Any], tmp_path: Path, **kw: Any):
    return gage_eval.run(cfg, output_dir=tmp_path / "runs", progress="off", **kw)


def test_single_task_writes_three_artifacts_with_correct_score(qa_file: Path, tmp_path: Path) -> None:
    result = _run(pipeline(qa_file), tmp_path, run_id="r1")
    run_dir = tmp_path / "runs" / "r1"
    for name in ("events.jsonl", "samples.jsonl", "summary.json"):
        assert (run_dir / name).is_file(), name
    summary = json.loads((run_dir / "summary.json").read_text())
    em = summary["metrics"]["exact_match"]
    assert em["value"] == pytest.approx(30 / 40)  # every 4th label differs from the echo
    assert em["count"] == 40 and em["stderr"] == pytest.approx((0.75 * 0.25 / 39) ** 0.5)
    assert summary["sample_count"] == 40 and summary["failures"]["total"] == 0
    assert result.status == "completed"
    records = read_jsonl(run_dir / "samples.jsonl")
    assert sorted(r["sample_id"] for r in records) == sorted(f"q{i}" for i in range(40))
    assert all(r["model_output"]["answer"] == r["sample"]["inputs"].get("prompt", r["model_output"]["answer"])
               for r in records)
    events = [e["event"] for e in read_jsonl(run_dir / "events.jsonl")]
    assert events[0] == "run_start" and events[-1] == "run_end" and "task_end" in events
    for e in read_jsonl(run_dir / "events.jsonl"):
        assert set(e) == {"run_id", "event_id", "event", "payload", "sample_id", "created_at"}


def test_max_samples_and_rerun_resumes_without_duplicates(qa_file: Path, tmp_path: Path) -> None:
    _run(pipeline(qa_file), tmp_path, run_id="r", max_samples=10)
    assert len(read_jsonl(tmp_path / "runs" / "r" / "samples.jsonl")) == 10
    second = _run(pipeline(qa_file), tmp_path, run_id="r")
    records = read_jsonl(tmp_path / "runs" / "r" / "samples.jsonl")
    ids = [r["sample_id"] for r in records]
    assert len(ids) == len(set(ids)) == 40
    assert second.summary["tasks"][0]["resumed_samples"] == 10
    assert second.summary["tasks"][0]["new_samples"] == 30


def test_torn_last_line_is_dropped_and_redone(qa_file: Path, tmp_path: Path) -> None:
    _run(pipeline(qa_file), tmp_path, run_id="r", max_samples=5)
    samples = tmp_path / "runs" / "r" / "samples.jsonl"
    with samples.open("ab") as fh:
        fh.write(b'{"task_id": "t", "sample_id": "q5", "sta')  # a write cut by SIGKILL
    result = _run(pipeline(qa_file), tmp_path, run_id="r")
    ids = [r["sample_id"] for r in read_jsonl(samples)]
    assert len(ids) == len(set(ids)) == 40
    assert result.summary["metrics"]["exact_match"]["value"] == pytest.approx(0.75)


def test_changed_config_refuses_to_mix_results(qa_file: Path, tmp_path: Path) -> None:
    _run(pipeline(qa_file), tmp_path, run_id="r", max_samples=3)
    with pytest.raises(gage_eval.errors.ConfigError, match="different config"):
        _run(pipeline(qa_file, metrics=["exact_match", "latency"]), tmp_path, run_id="r")


@registry.asset("backends", "test_flaky", desc="fails on prompts containing a marker")
class _Flaky(registry.get("backends", "dummy")):  # type: ignore[misc]
    type_name = "test_flaky"

    async def generate(self, request):  # noqa: ANN001
        from gage_eval.errors import BackendError
        if "say 3" == request.messages[-1]["content"]:
            raise BackendError("boom", retryable=False, status=400)
        return await super().generate(request)


def _flaky_cfg(qa_file: Path, policy: str) -> dict[str, Any]:
    return pipeline(qa_file, backends=[{"backend_id": "echo", "type": "test_flaky", "config": {}}],
                    execution={"failure_policy": policy, "concurrency": 2})


def test_graceful_records_failure_and_excludes_it_from_metrics(qa_file: Path, tmp_path: Path) -> None:
    result = _run(_flaky_cfg(qa_file, "graceful"), tmp_path, run_id="g")
    assert result.status == "completed_with_failures"  # some samples failed: not plain "completed"
    assert result.summary["failures"]["total"] == 1
    assert result.summary["run"]["failure_rate"] == pytest.approx(1 / 40)
    assert result.summary["failures"]["by_reason"] == {"inference:BackendError": 1}
    assert result.summary["metrics"]["exact_match"]["count"] == 39
    failed = [r for r in read_jsonl(tmp_path / "runs" / "g" / "samples.jsonl") if r["status"] == "failed"]
    assert failed[0]["sample_id"] == "q3" and failed[0]["error"]["status"] == 400


def test_best_effort_scores_failed_samples_as_wrong(qa_file: Path, tmp_path: Path) -> None:
    result = _run(_flaky_cfg(qa_file, "best_effort"), tmp_path, run_id="b")
    assert result.summary["metrics"]["exact_match"]["count"] == 40
    assert result.summary["metrics"]["exact_match"]["value"] == pytest.approx(29 / 40)


def test_fail_fast_stops_and_keeps_finished_samples(qa_file: Path, tmp_path: Path) -> None:
    result = _run(_flaky_cfg(qa_file, "fail_fast"), tmp_path, run_id="f")
    assert result.status == "failed" and result.summary["run"]["error"]["sample_id"] == "q3"
    records = read_jsonl(tmp_path / "runs" / "f" / "samples.jsonl")
    assert 1 <= len(records) < 40 and any(r["status"] == "failed" for r in records)


def test_multi_task_overrides_metrics_and_limits(qa_file: Path, tmp_path: Path) -> None:
    cfg = pipeline(qa_file, metrics=["exact_match", {"latency": {"aggregation": "median"}}],
                   tasks=[{"task_id": "a", "dataset_id": "qa", "max_samples": 5, "metric_overrides": ["exact_match"]},
                          {"task_id": "b", "dataset_id": "qa", "max_samples": 7, "concurrency": 3,
                           "steps": [{"step": "inference", "adapter_id": "dut"}, {"step": "auto_eval"}]}])
    result = _run(cfg, tmp_path, run_id="m")
    tasks = {t["task_id"]: t for t in result.summary["tasks"]}
    assert tasks["a"]["sample_count"] == 5 and set(tasks["a"]["metrics"]) == {"exact_match"}
    assert tasks["b"]["sample_count"] == 7 and set(tasks["b"]["metrics"]) == {"exact_match", "latency"}
    assert tasks["b"]["concurrency"] == 3
    assert tasks["b"]["metrics"]["latency"]["aggregation"] == "median"
    assert result.summary["sample_count"] == 12


def test_judge_context_provider_and_judge_extend_chain(qa_file: Path, tmp_path: Path) -> None:
    cfg = pipeline(
        qa_file,
        backends=[{"backend_id": "echo", "type": "dummy", "config": {}},
                  {"backend_id": "judge", "type": "dummy",
                   "config": {"mode": "cycle", "responses": ["Good. Rating: [[8]]", "Rating: [[3]]"]}}],
        role_adapters=[
            {"adapter_id": "ctx", "role_type": "context_provider",
             "params": {"implementation": "static_context", "implementation_params": {"text": "be brief"}}},
            {"adapter_id": "dut", "role_type": "dut_model", "backend_id": "echo"},
            {"adapter_id": "llm_judge", "role_type": "judge_model", "backend_id": "judge"},
            {"adapter_id": "strict", "role_type": "judge_extend", "params": {"implementation": "reference_match"}},
        ],
        custom={"steps": [{"step": "support", "adapter_id": "ctx"}, {"step": "inference"},
                          {"step": "judge", "adapter_id": "llm_judge"}, {"step": "auto_eval"}]},
        metrics=["judge_score", "exact_match"], summary_generators=["judge_usage"])
    result = _run(cfg, tmp_path, run_id="j", concurrency=1)
    assert result.summary["metrics"]["judge_score"]["value"] == pytest.approx(5.5)
    assert result.summary["summary_generators"]["judge_usage"]["calls"] == 40
    record = read_jsonl(tmp_path / "runs" / "j" / "samples.jsonl")[0]
    assert record["sample"]["messages"][0] == {"role": "system", "content": "be brief"}
    assert record["sample"]["support_outputs"][0]["context"] == "be brief"
    assert record["judge_output"]["score"] in (8.0, 3.0)


def test_unparsable_judge_verdict_is_retried_then_reported(qa_file: Path, tmp_path: Path) -> None:
    cfg = pipeline(
        qa_file,
        backends=[{"backend_id": "echo", "type": "dummy", "config": {}},
                  {"backend_id": "judge", "type": "dummy", "config": {"mode": "cycle", "responses": ["I like it"]}}],
        role_adapters=[{"adapter_id": "dut", "role_type": "dut_model", "backend_id": "echo"},
                       {"adapter_id": "j", "role_type": "judge_model", "backend_id": "judge",
                        "params": {"parse_retries": 1}}],
        custom={"steps": [{"step": "inference"}, {"step": "judge", "adapter_id": "j"}, {"step": "auto_eval"}]},
        metrics=["judge_score"], summary_generators=["judge_usage", "unparsed_answers"])
    result = _run(cfg, tmp_path, run_id="u", max_samples=4)
    usage = result.summary["summary_generators"]["judge_usage"]
    assert usage == {"calls": 4, "attempts": 8, "unparsed": 4, "tokens": usage["tokens"]}
    assert result.summary["metrics"]["judge_score"]["count"] == 0  # never counted as a loss or a zero
    assert result.summary["summary_generators"]["unparsed_answers"] == {"t/judge_score": 4}


def test_response_cache_serves_rerun(qa_file: Path, tmp_path: Path) -> None:
    first = _run(pipeline(qa_file), tmp_path, run_id="c1", use_cache=True)
    second = _run(pipeline(qa_file), tmp_path, run_id="c2", use_cache=True)
    assert first.summary["runtime_health"]["response_cache"]["hits"] == 0
    assert second.summary["runtime_health"]["response_cache"]["hits"] == 40
    assert second.summary["runtime_health"]["backends"]["echo"]["requests"] == 0
    assert second.summary["metrics"] == first.summary["metrics"]

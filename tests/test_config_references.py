"""Id references (spec §4.1.1), adapter_id inference (§4.6), inline backends, and local dataset paths."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

import gage_eval
from gage_eval.config import config_from_dict
from gage_eval.config.paths import check_dataset_paths
from gage_eval.errors import ConfigError
from tests.conftest import pipeline, write_jsonl

BASE: dict[str, Any] = {
    "datasets": [{"dataset_id": "qa", "params": {"path": "qa.jsonl"}},
                 {"dataset_id": "mc", "params": {"path": "mc.jsonl"}}],
    "backends": [{"backend_id": "echo", "type": "dummy"}],
    "role_adapters": [{"adapter_id": "dut", "role_type": "dut_model", "backend_id": "echo"}],
    "metrics": ["exact_match", "latency"],
}


def cfg_with(**update: Any) -> dict[str, Any]:
    return {**copy.deepcopy(BASE), **update}


def error_of(data: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        config_from_dict(data, "c.yaml")
    assert info.value.file == "c.yaml"
    return info.value


# --- adapter_id inference ------------------------------------------------------------------------------------

def test_inference_adapter_inferred_from_the_only_dut_model() -> None:
    judge = {"adapter_id": "judge", "role_type": "judge_model", "backend_id": "echo"}
    cfg = config_from_dict(cfg_with(
        role_adapters=[*BASE["role_adapters"], judge],  # other roles do not count
        custom={"steps": [{"step": "inference"}, {"step": "judge", "adapter_id": "judge"}, {"step": "auto_eval"}]},
        tasks=[{"task_id": "t", "dataset_id": "qa", "steps": [{"step": "inference"}, {"step": "auto_eval"}]}]))
    assert cfg.custom.steps[0].adapter_id == "dut" and cfg.tasks[0].steps[0].adapter_id == "dut"


def test_default_steps_when_custom_steps_omitted() -> None:
    cfg = config_from_dict(cfg_with())
    assert [(s.step, s.adapter_id) for s in cfg.custom.steps] == [("inference", "dut"), ("auto_eval", None)]


@pytest.mark.parametrize("duts,message,fix", [([], "there are 0", "role_type: dut_model"),
                                              (["a", "b"], "there are 2 (a, b)", "one of: a, b")])
def test_inference_adapter_ambiguous_or_missing(duts: list[str], message: str, fix: str) -> None:
    adapters = [{"adapter_id": a, "role_type": "dut_model", "backend_id": "echo"} for a in duts]
    steps = [{"step": "auto_eval"}, {"step": "inference"}]
    err = error_of(cfg_with(role_adapters=adapters, tasks=[
        {"task_id": "x", "dataset_id": "qa", "steps": [{"step": "inference", "adapter_id": "a"}]} if duts else
        {"task_id": "x", "dataset_id": "qa", "steps": [{"step": "auto_eval"}]},
        {"task_id": "y", "dataset_id": "mc", "steps": steps}]))
    assert err.path == "tasks[1].steps[1].adapter_id"
    assert message in err.message and fix in err.fix


def test_implicit_default_steps_name_themselves() -> None:
    err = error_of(cfg_with(role_adapters=[]))
    assert err.path == "role_adapters" and "default steps (inference, auto_eval)" in err.message


def test_default_steps_not_checked_when_every_task_has_its_own() -> None:
    two = [{"adapter_id": a, "role_type": "dut_model", "backend_id": "echo"} for a in ("a", "b")]
    tasks = [{"task_id": f"t{a}", "dataset_id": "qa", "steps": [{"step": "inference", "adapter_id": a}]}
             for a in ("a", "b")]
    cfg = config_from_dict(cfg_with(role_adapters=two, tasks=tasks))
    assert [t.steps[0].adapter_id for t in cfg.tasks] == ["a", "b"]
    # ... but one task without steps uses the default chain, which then needs its adapter.
    err = error_of(cfg_with(role_adapters=two, tasks=[*tasks, {"task_id": "t3", "dataset_id": "mc"}]))
    assert err.path == "custom.steps[0].adapter_id"


@pytest.mark.parametrize("step", ["support", "judge", "arena"])
def test_other_steps_need_an_explicit_adapter(step: str) -> None:
    err = error_of(cfg_with(custom={"steps": [{"step": "inference"}, {"step": step}]}))
    assert err.path == "custom.steps[1].adapter_id" and "adapters: dut" in err.fix


# --- dangling references and duplicates ---------------------------------------------------------------------

@pytest.mark.parametrize("update,path,value,known", [
    ({"tasks": [{"task_id": "a", "dataset_id": "qa"},
                {"task_id": "b", "dataset_id": "qa", "steps": [{"step": "inference", "adapter_id": "dutt"}]}]},
     "tasks[1].steps[0].adapter_id", "'dutt'", "did you mean 'dut'? known values: dut"),
    ({"tasks": [{"task_id": "a", "dataset_id": "qaa"}]}, "tasks[0].dataset_id", "'qaa'",
     "did you mean 'qa'? known values: mc, qa"),
    ({"role_adapters": [{"adapter_id": "dut", "role_type": "dut_model", "backend_id": "ecko"}]},
     "role_adapters[0].backend_id", "'ecko'", "did you mean 'echo'"),
    ({"role_adapters": [{"adapter_id": "dut", "role_type": "dut_model", "backend_id": "echo", "prompt_id": "p"}]},
     "role_adapters[0].prompt_id", "'p'", "(none defined)"),
    ({"tasks": [{"task_id": "a", "dataset_id": "qa", "metric_overrides": ["exact_mach"]}]},
     "tasks[0].metric_overrides[0].metric_id", "'exact_mach'", "did you mean 'exact_match'"),
    ({"custom": {"steps": [{"step": "inference", "adapter_id": "nobody"}]}}, "custom.steps[0].adapter_id",
     "'nobody'", "known values: dut"),
])
def test_dangling_references(update: dict[str, Any], path: str, value: str, known: str) -> None:
    err = error_of(cfg_with(**update))
    assert err.path == path and value in err.message and known in err.fix


@pytest.mark.parametrize("update,path", [
    ({"datasets": [{"dataset_id": "qa", "params": {"path": "a"}}, {"dataset_id": "qa", "params": {"path": "b"}}]},
     "datasets[1].dataset_id"),
    ({"metrics": ["exact_match", {"metric_id": "exact_match", "implementation": "regex_match"}]},
     "metrics[1].metric_id"),
    ({"backends": [{"type": "dummy"}, {"backend_id": "echo", "type": "dummy"}, {"backend_id": "echo", "type": "x"}]},
     "backends[2].backend_id"),  # the index counts entries without an id too
])
def test_duplicate_ids(update: dict[str, Any], path: str) -> None:
    err = error_of(cfg_with(**update))
    assert err.path == path and "duplicate" in err.message


def test_backend_and_model_role_requirements() -> None:
    assert error_of(cfg_with(backends=[{"type": "dummy"}])).path == "backends[0].backend_id"
    err = error_of(cfg_with(role_adapters=[{"adapter_id": "dut", "role_type": "dut_model"}]))
    assert err.path == "role_adapters[0]" and "has no backend" in err.message
    assert error_of(cfg_with(datasets=[])).path == "datasets"


# --- inline backend --------------------------------------------------------------------------------------------

def test_inline_backend_on_a_role_adapter_runs(qa_file: Path, tmp_path: Path) -> None:
    cfg = pipeline(qa_file, backends=[], role_adapters=[
        {"adapter_id": "dut", "role_type": "dut_model", "backend": {"type": "dummy", "config": {"mode": "echo"}}}])
    result = gage_eval.run(cfg, output_dir=tmp_path, run_id="inline", progress="off", max_samples=8)
    assert result.status == "completed" and result.summary["sample_count"] == 8
    assert result.summary["metrics"]["exact_match"]["value"] == pytest.approx(6 / 8)


def test_inline_backend_errors_point_inside_it(qa_file: Path, tmp_path: Path) -> None:
    bad = pipeline(qa_file, backends=[], role_adapters=[
        {"adapter_id": "dut", "role_type": "dut_model", "backend": {"type": "dumy"}}])
    with pytest.raises(ConfigError) as info:
        gage_eval.run(bad, output_dir=tmp_path, run_id="x", progress="off")
    assert info.value.path == "role_adapters[0].backend.type" and "did you mean 'dummy'" in info.value.fix


# --- local dataset paths (gage validate) ----------------------------------------------------------------------

def _paths_cfg(*datasets: dict[str, Any]) -> Any:
    return config_from_dict(cfg_with(datasets=list(datasets)))


def test_relative_dataset_paths_try_cwd_then_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg_dir, cwd = tmp_path / "cfg", tmp_path / "cwd"
    cfg_dir.mkdir(), cwd.mkdir()
    monkeypatch.chdir(cwd)
    write_jsonl(cfg_dir / "only_here.jsonl", [{"prompt": "x"}])
    write_jsonl(cwd / "both.jsonl", [{"prompt": "x"}])
    write_jsonl(cfg_dir / "both.jsonl", [{"prompt": "x"}])
    ok = _paths_cfg({"dataset_id": "a", "params": {"path": "only_here.jsonl"}},
                    {"dataset_id": "b", "params": {"path": "both.jsonl"}},
                    {"dataset_id": "c", "params": {"path": str(cfg_dir / "both.jsonl")}},
                    {"dataset_id": "h", "loader": "hf_hub", "hub_params": {"hub_id": "org/remote"}},  # no path: hub
                    {"dataset_id": "p", "loader": "custom_loader", "params": {"path": "not/a/file"}})  # not ours
    check_dataset_paths(ok, "c.yaml", cfg_dir)
    with pytest.raises(ConfigError) as info:
        check_dataset_paths(ok, "c.yaml", None)  # without the config's folder only the cwd is tried
    assert info.value.path == "datasets[0].params.path"


@pytest.mark.parametrize("dataset,message", [
    ({"dataset_id": "a", "params": {"path": "nope/d.jsonl"}}, "dataset file 'nope/d.jsonl' not found (tried "),
    ({"dataset_id": "a", "loader": "hf_hub", "params": {"path": "local_copy"}}, "'local_copy' not found"),
    ({"dataset_id": "a", "params": {}}, "has no params.path"),
    ({"dataset_id": "a", "params": {"path": "."}}, "is a folder"),
])
def test_missing_dataset_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dataset: dict[str, Any],
                               message: str) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        check_dataset_paths(_paths_cfg(dataset), "c.yaml", tmp_path / "sub")
    err = info.value
    assert (err.file, err.path) == ("c.yaml", "datasets[0].params.path") and message in err.message and err.fix
    if "not found" in message:
        assert str(tmp_path / dataset["params"]["path"]) in err.message  # the cwd candidate
        assert str(tmp_path / "sub" / dataset["params"]["path"]) in err.message  # then the config's folder


def test_load_config_checks_only_datasets_a_run_surely_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    import yaml

    from gage_eval.config import load_config

    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "qa.jsonl", [{"prompt": "x"}])
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump(cfg_with()))  # two datasets, no tasks: --dataset-id picks one at run time
    assert [d.dataset_id for d in load_config(f).datasets] == ["qa", "mc"]
    f.write_text(yaml.safe_dump(cfg_with(tasks=[{"task_id": "t", "dataset_id": "qa"}])))
    load_config(f)  # mc.jsonl is missing but unused
    f.write_text(yaml.safe_dump(cfg_with(tasks=[{"task_id": "t", "dataset_id": "mc"}])))
    with pytest.raises(ConfigError) as info:
        load_config(f)
    assert (info.value.file, info.value.path) == (str(f), "datasets[1].params.path")

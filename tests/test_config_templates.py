"""BuiltinTemplate digests, RunConfig compilation (overrides, pins), distill and init — all in tmp dirs."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

import gage_eval
from gage_eval.cli.config_cmds import do_distill, do_init, validate_file
from gage_eval.config import config_from_dict
from gage_eval.config.templates import (
    available_templates,
    canonical_digest,
    distill,
    find_template,
    init_config,
    load_template,
)
from gage_eval.errors import ConfigError
from tests.conftest import write_jsonl

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project dir (the cwd) with a dataset and a PipelineConfig; templates go to ./config/builtin_templates."""
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "data.jsonl", [{"id": f"s{i}", "prompt": f"p{i}", "label": f"p{i}" if i % 2 else "x"}
                                          for i in range(6)])
    pipe = {"kind": "PipelineConfig", "metadata": {"name": "mine"},
            "datasets": [{"dataset_id": "d", "params": {"path": "data.jsonl"}}],
            "backends": [{"backend_id": "echo", "type": "dummy", "config": {"mode": "echo", "latency_ms": 0}}],
            "role_adapters": [{"adapter_id": "dut", "role_type": "dut_model", "backend_id": "echo"}],
            "metrics": ["exact_match"]}
    (tmp_path / "pipe.yaml").write_text(yaml.safe_dump(pipe, sort_keys=False))
    return tmp_path


def tdirs(project: Path) -> list[Path]:
    return [project / "config" / "builtin_templates"]


def run_config(project: Path, **fields: Any) -> dict[str, Any]:
    return {"kind": "RunConfig", "base_task": "builtin/mine", **fields}


def test_canonical_digest_ignores_key_order_and_formatting() -> None:
    a = {"x": 1, "y": {"b": [1, 2], "a": "é"}}
    b = {"y": {"a": "é", "b": [1, 2]}, "x": 1}
    assert canonical_digest(a) == canonical_digest(b)
    assert canonical_digest(a) != canonical_digest({**a, "x": 2})
    assert canonical_digest(a).startswith("sha256:") and len(canonical_digest(a)) == 7 + 64


def test_shipped_demo_template_digest_holds() -> None:
    tpl = load_template(ROOT / "config/builtin_templates/demo_echo/v1.yaml")
    assert tpl.metadata.digest == canonical_digest(tpl.definition)


def test_distill_writes_next_version_with_digest(project: Path) -> None:
    first = do_distill(project / "pipe.yaml", "mine")
    second = do_distill(project / "pipe.yaml", "mine")
    assert first == Path("config/builtin_templates/mine/v1.yaml") and second.name == "v2.yaml"
    doc = yaml.safe_load(second.read_text())
    assert doc["kind"] == "BuiltinTemplate" and doc["metadata"]["version"] == "V2"
    assert doc["metadata"]["digest"] == canonical_digest(doc["definition"])
    assert "kind" not in doc["definition"] and doc["definition"]["datasets"][0]["dataset_id"] == "d"
    assert available_templates(tdirs(project))["mine"] == {1: (project / first).resolve(),
                                                           2: (project / second).resolve()}
    assert find_template("mine", None, tdirs(project)).name == "v2.yaml"
    assert find_template("mine", "V1", tdirs(project)).name == "v1.yaml"
    assert find_template("mine", "1", tdirs(project)).name == "v1.yaml"


def test_distill_refuses_bad_input(project: Path) -> None:
    with pytest.raises(ConfigError) as info:
        distill({"datasets": []}, "../escape", project)
    assert info.value.path == "--builtin-name"
    (project / "run.yaml").write_text(yaml.safe_dump(run_config(project)))
    with pytest.raises(ConfigError, match="only a PipelineConfig"):
        do_distill(project / "run.yaml", "x")
    bad = yaml.safe_load((project / "pipe.yaml").read_text())
    bad["role_adapters"][0]["backend_id"] = "nope"
    (project / "bad.yaml").write_text(yaml.safe_dump(bad))
    with pytest.raises(ConfigError, match="unknown backend_id 'nope'"):
        do_distill(project / "bad.yaml", "x")
    assert not (project / "config/builtin_templates/x").exists()


def test_edited_template_fails_its_digest_when_a_run_config_compiles(project: Path) -> None:
    path = project / do_distill(project / "pipe.yaml", "mine")
    config_from_dict(run_config(project), "run.yaml", tdirs(project))  # intact: compiles
    path.write_text(path.read_text().replace("latency_ms: 0", "latency_ms: 1"))
    with pytest.raises(ConfigError) as info:
        config_from_dict(run_config(project), "run.yaml", tdirs(project))
    err = info.value
    assert err.file == str(path) and err.path == "metadata.digest" and "digest mismatch" in err.message
    assert "gage distill" in err.fix
    doc = yaml.safe_load(path.read_text())
    del doc["metadata"]["digest"]
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError, match="no metadata.digest"):
        load_template(path)


def test_template_definition_is_validated_with_its_path(project: Path) -> None:
    target = project / "config/builtin_templates/broken/v1.yaml"
    target.parent.mkdir(parents=True)
    definition = {"datasets": [{"dataset_id": "d", "paramz": {}}]}
    target.write_text(yaml.safe_dump({"kind": "BuiltinTemplate", "metadata": {
        "name": "broken", "digest": canonical_digest(definition)}, "definition": definition}))
    with pytest.raises(ConfigError) as info:
        load_template(target)
    assert info.value.path == "definition.datasets[0].paramz" and "did you mean 'params'" in info.value.fix


def test_pins_and_versions(project: Path) -> None:
    do_distill(project / "pipe.yaml", "mine")
    digest = load_template(project / "config/builtin_templates/mine/v1.yaml").metadata.digest
    config_from_dict(run_config(project, template_version="v1", template_digest=digest), "r.yaml", tdirs(project))
    for fields, path, text in [
        ({"template_digest": "sha256:0000"}, "template_digest", "pins sha256:0000"),
        ({"template_version": "v7"}, "template_version", "no version 'v7'"),
        ({"template_version": "latest"}, "template_version", "no version 'latest'"),
    ]:
        with pytest.raises(ConfigError) as info:
            config_from_dict(run_config(project, **fields), "r.yaml", tdirs(project))
        assert (info.value.file, info.value.path) == ("r.yaml", path) and text in info.value.message
    with pytest.raises(ConfigError) as info:
        config_from_dict({"kind": "RunConfig", "base_task": "builtin/mien"}, "r.yaml", tdirs(project))
    assert info.value.path == "base_task" and "did you mean 'mine'" in info.value.fix
    with pytest.raises(ConfigError) as info:
        config_from_dict({"kind": "RunConfig", "base_task": "mine"}, "r.yaml", tdirs(project))
    assert info.value.path == "base_task" and "builtin/<template name>" in info.value.fix


def test_runtime_overrides_merge_by_id(project: Path) -> None:
    do_distill(project / "pipe.yaml", "mine")
    cfg = config_from_dict(run_config(project, metadata={"name": "r1"}, runtime={
        "backends": [{"backend_id": "echo", "config": {"latency_ms": 3}}],
        "datasets": [{"dataset_id": "d", "params": {"preprocess": "default"}}],
        "execution": {"concurrency": 2}}), "r.yaml", tdirs(project))
    assert cfg.backends[0].config == {"mode": "echo", "latency_ms": 3}  # deep merge keeps mode
    assert cfg.datasets[0].params == {"path": "data.jsonl", "preprocess": "default"}
    assert cfg.execution.concurrency == 2
    assert cfg.metadata.name == "r1" and cfg.metadata.model_extra["template"] == "mine@V1"
    for runtime, path, text in [
        ({"backends": [{"backend_id": "ecko"}]}, "runtime.backends[0].backend_id", "did you mean 'echo'"),
        ({"datasets": [{"params": {}}]}, "runtime.datasets[0].dataset_id", "known values: d"),
        ({"backends": [{"backend_id": "echo", "type": 3}]}, "backends[0].type", "compiled from builtin/mine"),
    ]:
        with pytest.raises(ConfigError) as info:
            config_from_dict(run_config(project, runtime=runtime), "r.yaml", tdirs(project))
        assert info.value.path == path and text in info.value.render(), info.value.render()


@pytest.mark.parametrize("mode,kind", [("run-config", "RunConfig"), ("pipeline-config", "PipelineConfig")])
def test_init_writes_configs_that_validate_and_run(project: Path, mode: str, kind: str) -> None:
    do_distill(project / "pipe.yaml", "mine")
    data = init_config("mine", mode, tdirs(project))
    assert data["kind"] == kind
    if kind == "RunConfig":
        assert data["template_version"] == "v1" and data["template_digest"].startswith("sha256:")
        assert data["runtime"]["backends"] == [{"backend_id": "echo", "config": {"mode": "echo", "latency_ms": 0}}]
    target = do_init("mine", mode, None)
    assert target == Path("config") / ("run_configs" if kind == "RunConfig" else "custom") / \
        f"mine_{mode.split('-')[0]}.yaml"
    assert yaml.safe_load(target.read_text()) == data
    assert "ok (1 task(s): mine" in validate_file(target)
    result = gage_eval.run(target, output_dir=project / "runs", run_id=mode, progress="off")
    assert result.status == "completed" and result.summary["metrics"]["exact_match"]["value"] == pytest.approx(0.5)
    with pytest.raises(ConfigError, match="already exists"):
        do_init("mine", mode, None)


def test_init_errors(project: Path) -> None:
    with pytest.raises(ConfigError) as info:
        init_config("demo_ech", "run-config", tdirs(project))
    assert info.value.path == "--init" and "did you mean 'demo_echo'" in info.value.fix  # the repo's template
    with pytest.raises(ConfigError, match="unknown init mode"):
        init_config("demo_echo", "runconfig")


def test_validate_accepts_a_template_file(project: Path) -> None:
    path = do_distill(project / "pipe.yaml", "mine")
    assert "ok (template mine V1, 1 task(s)" in validate_file(path)


def test_explicit_template_dirs_win(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    other = tmp_path_factory.mktemp("other")
    pipe = yaml.safe_load((project / "pipe.yaml").read_text())
    distill(copy.deepcopy(pipe), "mine", project / "config/builtin_templates")
    pipe["metrics"] = ["latency"]
    distill(pipe, "mine", other)
    cfg = config_from_dict(run_config(project), "r.yaml", [other])
    assert [m.metric_id for m in cfg.metrics] == ["latency"]

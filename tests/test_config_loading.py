"""Reading configs: YAML problems and schema failures become one short ConfigError (file, path, value, fix)."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from gage_eval.config import config_from_dict, load_config
from gage_eval.config.loading import format_loc, read_yaml
from gage_eval.config.models import BuiltinTemplate, PipelineConfig, RunConfig
from gage_eval.errors import ConfigError, close_match_hint

ROOT = Path(__file__).resolve().parents[1]

BASE: dict[str, Any] = {
    "kind": "PipelineConfig",
    "datasets": [{"dataset_id": "qa", "params": {"path": "qa.jsonl"}}],
    "backends": [{"backend_id": "echo", "type": "dummy", "config": {"mode": "echo"}}],
    "role_adapters": [{"adapter_id": "dut", "role_type": "dut_model", "backend_id": "echo"}],
    "metrics": ["exact_match"],
}


def error_of(update: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        config_from_dict({**copy.deepcopy(BASE), **update}, "c.yaml")
    return info.value


# --- YAML --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,path,message", [
    ("kind: PipelineConfig\ndatasets: [\n  - {dataset_id: x\n", "line 3", "YAML syntax error"),
    ("a: 1\n  b: 2\n", "line 2", "YAML syntax error"),
    ("a:\n\t- b\n", "line 2", "YAML syntax error"),  # tab
    ("metrics: [a]\ndatasets: []\nmetrics: [b]\n", "line 3", "duplicate key 'metrics' (first defined on line 1)"),
    ("backends:\n  - {backend_id: a, type: x, type: y}\n", "line 2", "duplicate key 'type'"),
    ("- just\n- a list\n", None, "the top level must be a mapping"),
    ("", None, "the top level must be a mapping"),
])
def test_yaml_problems(tmp_path: Path, text: str, path: str | None, message: str) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError) as info:
        read_yaml(f)
    err = info.value
    assert err.file == str(f) and message in err.message and err.fix
    assert (err.path or "").startswith(path) if path else err.path is None


def test_yaml_merge_keys_are_not_duplicates(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("base: &b {type: dummy, config: {mode: echo}}\nbackends:\n  - {<<: *b, backend_id: x, type: dummy}\n")
    assert read_yaml(f)["backends"][0] == {"type": "dummy", "config": {"mode": "echo"}, "backend_id": "x"}


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        read_yaml(tmp_path / "nope.yaml")
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ConfigError, match="not UTF-8"):
        read_yaml(tmp_path / "bin.yaml")


# --- schema errors ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("update,path,message,fix", [
    ({"role_adapters": [{"adapter_id": "dut", "role_type": "dut_model", "backnd_id": "echo"}]},
     "role_adapters[0].backnd_id", "unknown field 'backnd_id'", "did you mean 'backend_id'? known fields: adapter_id"),
    ({"datasets": [{"dataset_id": "qa", "shema": {}}]}, "datasets[0].shema", "unknown field", "did you mean 'schema'"),
    ({"metric": ["x"]}, "metric", "unknown field 'metric'", "did you mean 'metrics'"),
    ({"role_adapters": [{"adapter_id": "dut", "role_type": "dut_model", "backend": {"type": "dummy", "confg": {}}}]},
     "role_adapters[0].backend.confg", "unknown field", "did you mean 'config'"),
    ({"custom": {"steps": [{"step": "infer"}]}}, "custom.steps[0].step", "invalid value 'infer'",
     "did you mean 'inference'? allowed values: arena, auto_eval"),
    ({"execution": {"concurrency": "many"}}, "execution.concurrency", "valid integer", "`gage schema`"),
    ({"execution": {"concurrency": 0}}, "execution.concurrency", "greater than or equal to 1 (got 0)", "gage schema"),
    ({"execution": {"failure_policy": "fail-fast"}}, "execution.failure_policy", "'fail-fast'",
     "did you mean 'fail_fast'"),
    ({"metrics": [{"metric_id": "x", "implementation": "y", "aggregation": 5}]}, "metrics[0].aggregation",
     "Input should be a valid string or a valid dictionary (got 5)", "gage schema"),
    ({"tasks": [{"task_id": "t"}]}, "tasks[0].dataset_id", "missing required field 'dataset_id'", "add the"),
    ({"tasks": [{"task_id": "t", "dataset_id": "qa", "reporting": {"sinks": [{}]}}]},
     "tasks[0].reporting.sinks[0].type", "missing required field 'type'", "add the"),
    ({"role_adapters": [{"adapter_id": "dut", "role_type": "dut_model", "backend_id": "echo",
                         "backend": {"type": "dummy"}}]},
     "role_adapters[0]", "both backend_id and an inline backend", "keep one"),
    ({"prompts": [{"prompt_id": "p"}]}, "prompts[0]", "the prompt has no body", "template, messages"),
    ({"datasets": {"qa": {}}}, "datasets", "valid list", "gage schema"),
])
def test_schema_errors_name_path_value_and_fix(update: dict[str, Any], path: str, message: str, fix: str) -> None:
    err = error_of(update)
    assert (err.file, err.path) == ("c.yaml", path)
    assert message in err.message, err.render()
    assert fix in err.fix, err.render()
    assert len(err.render().splitlines()) == 2


def test_several_errors_are_summarized_on_one_line() -> None:
    err = error_of({"execution": {"concurrency": 0, "max_inflight": 0}, "tasks": [{"task_id": "t"}]})
    assert "[and 2 more:" in err.message and "\n" not in err.message


def test_long_values_are_truncated() -> None:
    err = error_of({"execution": {"concurrency": "x" * 500}})
    assert len(err.message) < 200 and "..." in err.message


def test_format_loc_drops_pydantic_tags() -> None:
    loc = ("metrics", 0, "aggregation", "dict[str,any]")
    assert format_loc(loc, PipelineConfig) == "metrics[0].aggregation"
    assert format_loc(("datasets", 1, "params", "x", 2), PipelineConfig) == "datasets[1].params.x[2]"
    assert format_loc(("a", "function-after[f()]", 3)) == "a[3]"


def test_close_match_hint() -> None:
    assert close_match_hint("Exact_Match", ["exact_match", "latency"]) == \
        "did you mean 'exact_match'? known values: exact_match, latency"
    assert close_match_hint("zzz", []) == "known values: (none defined)"
    long = close_match_hint("m1", [f"m{i}" for i in range(30)], limit=5)
    assert long.startswith("did you mean 'm1'?") is False and "(25 more)" in long


# --- legacy names and the JSON Schema ------------------------------------------------------------------------

def test_legacy_reference_names_still_accepted() -> None:
    cfg = config_from_dict({**copy.deepcopy(BASE), "tasks": [
        {"task_id": "t", "dataset_ref": "qa", "steps": [{"step": "inference", "role_ref": "dut"}]}]})
    assert cfg.tasks[0].dataset_id == "qa" and cfg.tasks[0].steps[0].adapter_id == "dut"
    dumped = cfg.model_dump(by_alias=True)
    assert dumped["tasks"][0]["dataset_id"] == "qa" and dumped["tasks"][0]["steps"][0]["adapter_id"] == "dut"


def _shipped_configs() -> list[Path]:
    return sorted((ROOT / "config").glob("*/*.yaml")) + sorted((ROOT / "config/builtin_templates").glob("*/*.yaml"))


def test_json_schema_is_valid_and_accepts_the_shipped_configs() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schemas = {kind: model.model_json_schema(by_alias=True)
               for kind, model in (("PipelineConfig", PipelineConfig), ("RunConfig", RunConfig),
                                   ("BuiltinTemplate", BuiltinTemplate))}
    for schema in schemas.values():
        jsonschema.Draft202012Validator.check_schema(schema)
    checked = 0
    for path in _shipped_configs():
        data = yaml.safe_load(path.read_text())
        jsonschema.validate(data, schemas[data.get("kind", "PipelineConfig")])
        if data["kind"] == "BuiltinTemplate":
            jsonschema.validate(data["definition"], schemas["PipelineConfig"])
        checked += 1
    assert checked >= 5
    # ... and rejects what the models reject.
    bad = {**BASE, "role_adapters": [{"adapter_id": "x", "role_type": "dut_model", "backnd_id": "echo"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schemas["PipelineConfig"])


def test_json_schema_documents_current_names_and_shorthands() -> None:
    schema = json.loads(json.dumps(PipelineConfig.model_json_schema(by_alias=True)))
    defs = schema["$defs"]
    assert "adapter_id" in defs["StepSpec"]["properties"] and "role_ref" not in defs["StepSpec"]["properties"]
    assert "dataset_id" in defs["TaskSpec"]["properties"]
    assert "schema" in defs["DatasetSpec"]["properties"]
    metric_items = schema["properties"]["metrics"]["items"]["anyOf"]
    assert {"type": "string"} in metric_items and {"$ref": "#/$defs/MetricSpec"} in metric_items


def test_load_config_reports_the_file(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump({**BASE, "kind": "Pipeline"}))
    with pytest.raises(ConfigError) as info:
        load_config(f)
    assert (info.value.file, info.value.path) == (str(f), "kind")
    assert info.value.fix == "did you mean 'PipelineConfig'? runnable kinds: PipelineConfig, RunConfig"
    f.write_text(yaml.safe_dump({**BASE, "kind": "BuiltinTemplate"}))
    with pytest.raises(ConfigError, match="cannot be run directly"):
        load_config(f)

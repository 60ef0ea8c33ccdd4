"""The config CLI end to end: bad configs exit 2 with one short message (file, config path, bad value, known
values, fix, no traceback) from `gage validate` and `gage run`; distill/init via run.py and `gage`;
schema, list and manifest."""
from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from gage_eval.cli import app as app_module
from gage_eval.registry import DEFAULT_KINDS
from tests.conftest import pipeline, write_jsonl

ROOT = Path(__file__).resolve().parents[1]
DEMO_TEMPLATE = ROOT / "config/builtin_templates/demo_echo/v1.yaml"


def gage(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gage_eval", *args], cwd=cwd, capture_output=True, text=True)


def run_py(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *args], cwd=cwd, capture_output=True, text=True)


def in_process(argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
               ) -> tuple[int, str, str]:
    """`gage ARGV` without a subprocess (for the cheap, non-error paths)."""
    monkeypatch.setattr(app_module, "_graceful_sigterm", lambda: None)
    monkeypatch.setattr(warnings, "formatwarning", warnings.formatwarning)
    with pytest.raises(SystemExit) as info:
        app_module.main(argv)
    out = capsys.readouterr()
    return int(info.value.code or 0), out.out, out.err


# --- malformed configs ---------------------------------------------------------------------------------------

def _demo_project(tmp_path: Path) -> None:
    """cwd layout of the repo: config/datasets/demo_echo.jsonl and config/builtin_templates/demo_echo/v1.yaml."""
    (tmp_path / "config/datasets").mkdir(parents=True)
    shutil.copy(ROOT / "config/datasets/demo_echo.jsonl", tmp_path / "config/datasets/demo_echo.jsonl")
    (tmp_path / "config/builtin_templates/demo_echo").mkdir(parents=True)
    shutil.copy(DEMO_TEMPLATE, tmp_path / "config/builtin_templates/demo_echo/v1.yaml")


def yaml_syntax(tmp_path: Path, cfg: dict[str, Any]) -> str:
    return "kind: PipelineConfig\ndatasets:\n  - dataset_id: qa\n    params: {path: d.jsonl\n"


def unknown_field(tmp_path: Path, cfg: dict[str, Any]) -> dict[str, Any]:
    cfg["role_adapters"][0]["backnd_id"] = cfg["role_adapters"][0].pop("backend_id")
    return cfg


def wrong_type(tmp_path: Path, cfg: dict[str, Any]) -> dict[str, Any]:
    return {**cfg, "execution": {"concurrency": "many"}}


def dangling_reference(tmp_path: Path, cfg: dict[str, Any]) -> dict[str, Any]:
    return {**cfg, "role_adapters": [*cfg["role_adapters"],
                                     {"adapter_id": "dut2", "role_type": "helper_model", "backend_id": "echo"}],
            "tasks": [{"task_id": "a", "dataset_id": "qa"},
                      {"task_id": "b", "dataset_id": "qa", "steps": [{"step": "inference", "adapter_id": "dutt"}]}]}


def missing_dataset_file(tmp_path: Path, cfg: dict[str, Any]) -> dict[str, Any]:
    cfg["datasets"][0]["params"]["path"] = "data/missing.jsonl"
    return cfg


def digest_mismatch(tmp_path: Path, cfg: dict[str, Any]) -> str:
    _demo_project(tmp_path)
    tpl = tmp_path / "config/builtin_templates/demo_echo/v1.yaml"
    tpl.write_text(tpl.read_text().replace("latency_ms: 5", "latency_ms: 6"))
    return (ROOT / "config/run_configs/demo_echo_run_1.yaml").read_text()


CFG = "{cfg}"  # placeholder for the config file's path in expectations
TPL = "config/builtin_templates/demo_echo/v1.yaml"
CASES: dict[str, tuple[Callable[[Path, dict[str, Any]], Any], list[str]]] = {
    "yaml_syntax": (yaml_syntax, [CFG, "line 5", "YAML syntax error", "fix:"]),
    "unknown_field": (unknown_field, [CFG, "role_adapters[0].backnd_id", "unknown field 'backnd_id'",
                                      "did you mean 'backend_id'?", "known fields: adapter_id, backend,"]),
    "wrong_type": (wrong_type, [CFG, "execution.concurrency", "'many'", "valid integer", "fix:"]),
    "dangling_reference": (dangling_reference, [CFG, "tasks[1].steps[0].adapter_id", "unknown adapter_id 'dutt'",
                                                "did you mean 'dut'? known values: dut, dut2"]),
    "missing_dataset_file": (missing_dataset_file, ["datasets[0].params.path", "data/missing.jsonl", "not found",
                                                    "fix:"]),
    "digest_mismatch": (digest_mismatch, [TPL, "metadata.digest", "digest mismatch", "sha256:a513bb3bfa3b",
                                          "fix:", "gage distill"]),
}


@pytest.mark.parametrize("verb", ["validate", "run"])
@pytest.mark.parametrize("case", list(CASES))
def test_malformed_config_exits_2_with_a_short_message(tmp_path: Path, case: str, verb: str) -> None:
    mutate, expected = CASES[case]
    good = pipeline(write_jsonl(tmp_path / "d.jsonl", [{"id": "a", "prompt": "p", "label": "p"}]))
    good["datasets"][0]["params"]["path"] = "d.jsonl"  # relative: resolved against the cwd, then the config's dir
    content = mutate(tmp_path, json.loads(json.dumps(good)))
    path = tmp_path / "cfg.yaml"
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False))
    args = [verb, str(path)] + (["--output-dir", str(tmp_path / "runs")] if verb == "run" else [])
    proc = gage(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("error: ")
    error_lines = proc.stderr[proc.stderr.index("error: "):].splitlines()
    assert len(error_lines) == 2 and error_lines[1].startswith("  fix: "), proc.stderr
    for text in expected:
        text = text.replace(CFG, str(path))
        assert text in proc.stderr, (text, proc.stderr)
    if case == "missing_dataset_file" and verb == "validate":
        assert proc.stderr.startswith(f"error: {path}: datasets[0].params.path: ")  # a ConfigError naming the config
    assert not (tmp_path / "runs").exists() or case == "missing_dataset_file"


# --- distill / init through run.py and gage ---------------------------------------------------------------------

def test_distill_init_validate_run_round_trip(tmp_path: Path) -> None:
    _demo_project(tmp_path)
    src = tmp_path / "pipe.yaml"
    shutil.copy(ROOT / "config/custom/demo_echo.yaml", src)

    proc = run_py("--config", str(src), "--distill", "--builtin-name", "mine", cwd=tmp_path)
    assert proc.returncode == 0 and "config/builtin_templates/mine/v1.yaml" in proc.stdout, proc.stderr
    proc = gage("distill", str(src), "--builtin-name", "mine", cwd=tmp_path)  # again: the next version
    assert proc.returncode == 0 and "config/builtin_templates/mine/v2.yaml" in proc.stdout, proc.stderr
    v1, v2 = (yaml.safe_load((tmp_path / f"config/builtin_templates/mine/v{n}.yaml").read_text()) for n in (1, 2))
    assert v1["definition"] == v2["definition"] and v2["metadata"]["version"] == "V2"
    assert v2["metadata"]["digest"] == yaml.safe_load(DEMO_TEMPLATE.read_text())["metadata"]["digest"]

    proc = run_py("--init", "mine", "--init-mode", "run-config", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    run_cfg = tmp_path / "config/run_configs/mine_run.yaml"
    assert yaml.safe_load(run_cfg.read_text())["template_version"] == "v2"
    proc = gage("init", "mine", "--mode", "pipeline-config", cwd=tmp_path)
    assert proc.returncode == 0 and "next: gage validate" in proc.stdout, proc.stderr
    pipe_cfg = tmp_path / "config/custom/mine_pipeline.yaml"
    assert yaml.safe_load(pipe_cfg.read_text())["kind"] == "PipelineConfig"

    proc = gage("validate", str(run_cfg), str(pipe_cfg), cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.count(": ok (") == 2, proc.stderr
    runs = tmp_path / "runs"
    proc = run_py("--config", str(run_cfg), "--output-dir", str(runs), "--run-id", "rc", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    proc = gage("run", str(pipe_cfg), "--output-dir", str(runs), "--run-id", "pc", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for run_id in ("rc", "pc"):
        summary = json.loads((runs / run_id / "summary.json").read_text())
        assert summary["metrics"]["exact_match"]["value"] == pytest.approx(0.8)


def _load_run_py() -> Any:
    spec = importlib.util.spec_from_file_location("gage_run_py", ROOT / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_run_py_flags_and_usage_errors(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                       tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "run.py"), "--help"], capture_output=True, text=True)
    for flag in ("--config", "--dataset-id", "--gpus", "--cpus", "--concurrency", "--max-samples", "--output-dir",
                 "--run-id", "--model-path", "--distill", "--builtin-name", "--init", "--init-mode"):
        assert flag in proc.stdout
    module = _load_run_py()
    monkeypatch.setattr(app_module, "_graceful_sigterm", lambda: None)
    monkeypatch.chdir(tmp_path)
    for argv, text in [([], "--config is required"),
                       (["--config", "x.yaml", "--builtin-name", "n"], "only used with --distill"),
                       (["--config", "x.yaml", "--distill"], "--distill needs --builtin-name"),
                       (["--init", "demo_ech"], "did you mean 'demo_echo'")]:
        assert module.main(argv) == 2
        assert text in capsys.readouterr().err


# --- schema, list, manifest -------------------------------------------------------------------------------------

def test_schema_prints_valid_json_schema(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for kind, title in (("pipeline", "PipelineConfig"), ("run", "RunConfig"), ("template", "BuiltinTemplate")):
        code, out, _ = in_process(["schema", kind], capsys, monkeypatch)
        schema = json.loads(out)
        assert code == 0 and schema["title"] == title and schema["type"] == "object"
        jsonschema = pytest.importorskip("jsonschema")
        jsonschema.Draft202012Validator.check_schema(schema)
    code, _, err = in_process(["schema", "pipline"], capsys, monkeypatch)
    assert code == 2 and "use pipeline, run or template" in err


def test_list_and_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = in_process(["list"], capsys, monkeypatch)
    assert code == 0
    for name in ("openai_http", "dummy", "exact_match", "dut_model", "judge_model", "jsonl", "hf_hub", "demo_echo",
                 "inference", "auto_eval"):
        assert name in out
    code, out, _ = in_process(["list", "backends"], capsys, monkeypatch)
    assert code == 0 and "dummy" in out and "exact_match" not in out
    code, out, _ = in_process(["list", "templates"], capsys, monkeypatch)
    assert "demo_echo" in out and "versions: v1" in out and "dummy" not in out
    code, _, err = in_process(["list", "bakends"], capsys, monkeypatch)
    assert code == 2 and "did you mean 'backends'" in err

    target = tmp_path / "manifest.yaml"
    code, out, _ = in_process(["manifest", "--out", str(target)], capsys, monkeypatch)
    assert code == 0 and f"wrote {target}" in out
    manifest = yaml.safe_load(target.read_text())
    assert set(manifest) == set(DEFAULT_KINDS) and all(isinstance(v, list) for v in manifest.values())
    assert any(e["name"] == "openai_http" and e["module"] == "gage_eval.backends.openai_http"
               for e in manifest["backends"])

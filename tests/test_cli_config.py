"""Bad configs give exit code 2 and a short message naming file, path and fix; never a traceback."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import pipeline, write_jsonl

ROOT = Path(__file__).resolve().parents[1]


def gage(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gage_eval", *args], cwd=cwd, capture_output=True, text=True)


def _write(tmp_path: Path, cfg: dict | str, name: str = "cfg.yaml") -> Path:
    path = tmp_path / name
    path.write_text(cfg if isinstance(cfg, str) else yaml.safe_dump(cfg, sort_keys=False))
    return path


@pytest.fixture
def good(tmp_path: Path) -> dict:
    return pipeline(write_jsonl(tmp_path / "d.jsonl", [{"id": "a", "prompt": "p", "label": "p"}]))


CASES = {
    "yaml_syntax": (lambda cfg: "kind: PipelineConfig\ndatasets: [\n  - {dataset_id: x\n",
                    ["YAML syntax error", "line"]),
    "unknown_field": (lambda cfg: {**cfg, "role_adapters": [{**cfg["role_adapters"][0], "backnd_id": "echo"}]},
                      ["role_adapters[0].backnd_id", "Extra inputs are not permitted", "fix:"]),
    "wrong_type": (lambda cfg: {**cfg, "execution": {"concurrency": "many"}},
                   ["execution.concurrency", "'many'", "fix:"]),
    "dangling_adapter": (lambda cfg: {**cfg, "tasks": [{"task_id": "a", "dataset_id": "qa"},
                                                        {"task_id": "b", "dataset_id": "qa",
                                                         "steps": [{"step": "inference", "adapter_id": "dutt"}]}]},
                         ["tasks[1].steps[0].adapter_id", "unknown adapter_id 'dutt'", "did you mean 'dut'",
                          "known values: dut"]),
    "dangling_backend": (lambda cfg: {**cfg, "role_adapters": [{**cfg["role_adapters"][0], "backend_id": "ecko"}]},
                         ["role_adapters[0].backend_id", "did you mean 'echo'"]),
    "missing_dataset_file": (lambda cfg: {**cfg, "datasets": [{**cfg["datasets"][0],
                                                               "params": {"path": "/nonexistent/d.jsonl"}}]},
                             ["datasets[0].params.path", "/nonexistent/d.jsonl", "not found"]),
    "unknown_metric": (lambda cfg: {**cfg, "metrics": ["exact_mach"]},
                       ["metrics[0].implementation", "did you mean 'exact_match'"]),
    "bad_metric_shorthand": (lambda cfg: {**cfg, "metrics": ["exact_match(case_sensitive)"]},
                             ["metrics[0]", "k=v"]),
    "unknown_backend_type": (lambda cfg: {**cfg, "backends": [{"backend_id": "echo", "type": "dumy"}]},
                             ["backends[0].type", "did you mean 'dummy'"]),
    "bad_backend_setting": (lambda cfg: {**cfg, "backends": [{"backend_id": "echo", "type": "dummy",
                                                              "config": {"mode": "shout"}}]},
                            ["backends[0].config.mode", "'shout'"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("verb", ["validate", "run"])
def test_bad_config_exits_2_with_path_and_fix(tmp_path: Path, good: dict, case: str, verb: str) -> None:
    mutate, expected = CASES[case]
    path = _write(tmp_path, mutate(json.loads(json.dumps(good))))
    args = [verb, str(path)] + (["--output-dir", str(tmp_path / "runs")] if verb == "run" else [])
    proc = gage(*args)
    assert proc.returncode == 2, proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
    if case != "missing_dataset_file" or verb == "validate":
        assert str(path) in proc.stderr or case == "missing_dataset_file"
    for text in expected:
        assert text in proc.stderr, (text, proc.stderr)
    assert len(proc.stderr.splitlines()) <= 4


def test_template_digest_mismatch_and_pin(tmp_path: Path) -> None:
    tpl_dir = tmp_path / "config" / "builtin_templates" / "demo_echo"
    tpl_dir.mkdir(parents=True)
    original = (ROOT / "config/builtin_templates/demo_echo/v1.yaml").read_text()
    (tpl_dir / "v1.yaml").write_text(original.replace("latency_ms: 5", "latency_ms: 6"))
    (tmp_path / "config" / "datasets").mkdir()
    (tmp_path / "config/datasets/demo_echo.jsonl").write_text((ROOT / "config/datasets/demo_echo.jsonl").read_text())
    run_cfg = _write(tmp_path, (ROOT / "config/run_configs/demo_echo_run_1.yaml").read_text(), "run.yaml")
    proc = gage("validate", str(run_cfg), cwd=tmp_path)
    assert proc.returncode == 2 and "digest mismatch" in proc.stderr and "metadata.digest" in proc.stderr
    assert "v1.yaml" in proc.stderr and "Traceback" not in proc.stderr

    (tpl_dir / "v1.yaml").write_text(original)
    pinned = _write(tmp_path, {**yaml.safe_load(run_cfg.read_text()), "template_digest": "sha256:0000"}, "pin.yaml")
    proc = gage("validate", str(pinned), cwd=tmp_path)
    assert proc.returncode == 2 and "template_digest" in proc.stderr
    assert gage("validate", str(run_cfg), cwd=tmp_path).returncode == 0


def test_distill_then_init_round_trip(tmp_path: Path) -> None:
    (tmp_path / "config" / "builtin_templates").mkdir(parents=True)
    (tmp_path / "config" / "datasets").mkdir()
    (tmp_path / "config/datasets/demo_echo.jsonl").write_text((ROOT / "config/datasets/demo_echo.jsonl").read_text())
    src = _write(tmp_path, (ROOT / "config/custom/demo_echo.yaml").read_text(), "pipe.yaml")
    run_py = str(ROOT / "run.py")
    for expected in ("v1.yaml", "v2.yaml"):  # distilling again makes the next version
        proc = subprocess.run([sys.executable, run_py, "--config", str(src), "--distill", "--builtin-name", "mine"],
                              cwd=tmp_path, capture_output=True, text=True)
        assert proc.returncode == 0 and expected in proc.stdout, proc.stderr
    doc = yaml.safe_load((tmp_path / "config/builtin_templates/mine/v2.yaml").read_text())
    assert doc["kind"] == "BuiltinTemplate" and doc["metadata"]["digest"].startswith("sha256:")

    for mode, kind in (("run-config", "RunConfig"), ("pipeline-config", "PipelineConfig")):
        proc = subprocess.run([sys.executable, run_py, "--init", "mine", "--init-mode", mode], cwd=tmp_path,
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        written = tmp_path / proc.stdout.split("wrote ", 1)[1].strip()
        assert yaml.safe_load(written.read_text())["kind"] == kind
        run = gage("run", str(written), "--output-dir", str(tmp_path / "runs"), "--run-id", mode, cwd=tmp_path)
        assert run.returncode == 0, run.stderr
        summary = json.loads((tmp_path / "runs" / mode / "summary.json").read_text())
        assert summary["metrics"]["exact_match"]["value"] == pytest.approx(0.8)


def test_schema_list_and_manifest(tmp_path: Path) -> None:
    for kind in ("pipeline", "run", "template"):
        proc = gage("schema", kind)
        assert proc.returncode == 0 and json.loads(proc.stdout)["type"] == "object"
    listing = gage("list")
    assert listing.returncode == 0
    for name in ("openai_http", "dummy", "exact_match", "dut_model", "judge_model", "jsonl", "hf_hub", "demo_echo"):
        assert name in listing.stdout
    assert "dummy" in gage("list", "backends").stdout and "exact_match" not in gage("list", "backends").stdout
    assert gage("list", "bakends").returncode == 2
    out = tmp_path / "manifest.yaml"
    assert gage("manifest", "--out", str(out)).returncode == 0
    manifest = yaml.safe_load(out.read_text())
    assert len(manifest) == 16 and any(e["name"] == "openai_http" for e in manifest["backends"])


def test_run_py_help_lists_spec_flags() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "run.py"), "--help"], capture_output=True, text=True)
    for flag in ("--config", "--dataset-id", "--gpus", "--cpus", "--concurrency", "--max-samples", "--output-dir",
                 "--run-id", "--model-path", "--distill", "--builtin-name", "--init", "--init-mode"):
        assert flag in proc.stdout

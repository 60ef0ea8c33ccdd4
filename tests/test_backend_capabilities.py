"""Declared backend capabilities, checked when `gage validate` / `gage run` build the pipeline: a
log-likelihood benchmark on a backend that cannot score fails before any request, naming backend and fix."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gage_eval.backends.base import CAPABILITIES, Backend
from gage_eval.cli.app import main
from gage_eval.registry import registry
from gage_eval.testing.server import TestServerConfig, run_server_in_thread

from .conftest import write_jsonl


def _run_config(tmp_path: Path, backend_type: str, config: dict[str, Any]) -> Path:
    data = write_jsonl(tmp_path / "arc.jsonl", [{"id": "q1", "question": "Which planet is red?",
                                                 "choices": {"text": ["Mars", "Venus"], "label": ["A", "B"]},
                                                 "answerKey": "A"}])
    doc = {"api_version": "gage/v1alpha1", "kind": "RunConfig", "metadata": {"name": "arc_caps"},
           "base_task": "builtin/arc_easy",
           "runtime": {"datasets": [{"dataset_id": "arc_easy", "params": {"path": str(data)}}],
                       "backends": [{"backend_id": "model", "type": backend_type, "config": config}]}}
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def _exit(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as done:
        main(argv)
    return done.value.code or 0


def test_every_backend_type_declares_known_capabilities() -> None:
    declared = {}
    for entry in registry.entries("backends"):
        cls = entry.obj
        assert isinstance(cls, type) and issubclass(cls, Backend)
        assert "generate" in cls.capabilities and cls.capabilities <= set(CAPABILITIES), entry.name
        declared[entry.name] = cls.capabilities
    assert {"sglang", "tgi", "litellm"} <= set(declared)
    assert "loglikelihood" in declared["sglang"] and "loglikelihood" in declared["tgi"]
    assert "loglikelihood" in declared["hf"] and "loglikelihood" not in declared["dummy"]
    assert "loglikelihood" not in declared["litellm"]


def test_list_backends_shows_the_new_types_and_capabilities(capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "300")
    assert _exit(["list", "backends"]) == 0
    rows = {line.split("│")[2].strip(): line for line in capsys.readouterr().out.splitlines() if "│ backends" in line}
    assert {"sglang", "tgi", "litellm", "openai_http", "hf", "dummy"} <= set(rows)
    assert "capabilities: generate, loglikelihood, stream" in rows["tgi"]
    assert "capabilities: generate, tools, images" in rows["litellm"]


@pytest.mark.parametrize("backend_type, config, kind, fix", [
    ("openai_http", {"base_url": "http://127.0.0.1:9/v1", "model": "m"}, "type openai_http, api: chat",
     "set api: completions"),
    ("dummy", {"mode": "echo"}, "type dummy", "gage list backends"),
    ("litellm", {"model": "openai/m"}, "type litellm", "openai_http with api: completions"),
])
def test_validate_refuses_loglikelihood_on_a_backend_without_it(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                backend_type: str, config: dict[str, Any],
                                                                kind: str, fix: str) -> None:
    if backend_type == "litellm":
        pytest.importorskip("litellm")
    path = _run_config(tmp_path, backend_type, config)
    assert _exit(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"backend 'model' ({kind}) does not support loglikelihood" in err
    assert "role_adapters[0].params.mode" in err and "supports: generate" in err and fix in err
    assert str(path) in err and "Traceback" not in err


@pytest.mark.parametrize("backend_type, config", [
    ("openai_http", {"base_url": "http://127.0.0.1:9/v1", "model": "m", "api": "completions"}),
    ("sglang", {"base_url": "http://127.0.0.1:9"}),
    ("tgi", {"base_url": "http://127.0.0.1:9"}),
])
def test_validate_accepts_backends_that_score(tmp_path: Path, capsys: pytest.CaptureFixture[str], backend_type: str,
                                              config: dict[str, Any]) -> None:
    assert _exit(["validate", str(_run_config(tmp_path, backend_type, config))]) in (0, None)


def test_run_fails_before_any_request(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      caplog: pytest.LogCaptureFixture) -> None:
    with run_server_in_thread(TestServerConfig()) as server:
        path = _run_config(tmp_path, "openai_http", {"base_url": server.base_url, "model": "m"})
        code = _exit(["run", str(path), "--output-dir", str(tmp_path / "runs"), "--run-id", "caps", "--progress", "off"])
        sent = server.requests
    assert code == 2 and sent == 0
    assert "does not support loglikelihood" in capsys.readouterr().err
    assert all(p.stat().st_size == 0 for p in (tmp_path / "runs").rglob("samples*.jsonl"))
    assert "pre-flight" not in caplog.text  # refused before the pre-flight contacted the server

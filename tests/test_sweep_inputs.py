"""`gage sweep` inputs: checkpoint discovery and ordering, config-file mode against running servers, and the
clear errors for bad input (empty folder, no model files, unreachable hub id, port in use, judge down,
evaluate without generated answers)."""
from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from gage_eval.cli.app import main
from gage_eval.errors import ConfigError
from gage_eval.sweep.models import discover
from gage_eval.testing.server import TestServerConfig, run_server_in_thread

from .sweep_fixtures import judge_script, write_datasets


def _ckpt(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"w")
    return folder


def _sweep(args: list[str], capsys: Any) -> tuple[int, str]:
    with pytest.raises(SystemExit) as done:
        main(["sweep", *args, "--progress", "off"])
    captured = capsys.readouterr()
    return int(done.value.code or 0), captured.out + captured.err


def test_checkpoints_are_ordered_by_the_number_in_their_names(tmp_path: Path) -> None:
    for name in ("step-200", "checkpoint-1000", "global_step300", "checkpoint-100", "final"):
        _ckpt(tmp_path / name)
    (tmp_path / "runs").mkdir()  # no model files: not a checkpoint
    (tmp_path / "trainer_state.json").write_text("{}")
    models = discover(str(tmp_path))
    assert [(m.name, m.step) for m in models] == [("checkpoint-100", 100), ("step-200", 200),
                                                 ("global_step300", 300), ("checkpoint-1000", 1000), ("final", None)]
    single = discover(str(tmp_path / "step-200"))
    assert [(m.name, m.step) for m in single] == [("step-200", 200)]


def test_empty_folder_and_folder_without_model_files(tmp_path: Path, capsys: Any) -> None:
    (tmp_path / "empty").mkdir()
    code, text = _sweep([str(tmp_path / "empty")], capsys)
    assert code == 2 and "is empty: no checkpoints" in text and "fix:" in text
    (tmp_path / "nomodels" / "checkpoint-1").mkdir(parents=True)
    (tmp_path / "nomodels" / "checkpoint-1" / "notes.txt").write_text("x")
    code, text = _sweep([str(tmp_path / "nomodels")], capsys)
    assert code == 2 and "no model files in" in text and "checkpoint-1" in text and "config.json" in text
    code, text = _sweep([str(tmp_path / "missing" / "ckpt")], capsys)
    assert code == 2 and "does not exist" in text


def test_hub_id_that_cannot_be_reached_offline(tmp_path: Path, capsys: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # no network here anyway; offline mode fails at once
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ConfigError) as err:
        discover("some-org/some-model-that-is-not-cached")
    assert "not in the local cache and the hub cannot be reached" in err.value.message
    assert "huggingface-cli download some-org/some-model-that-is-not-cached" in (err.value.fix or "")
    code, text = _sweep(["some-org/some-model-that-is-not-cached"], capsys)
    assert code == 2 and "hub model" in text


@pytest.fixture
def data(tmp_path: Path) -> dict[str, Any]:
    return write_datasets(tmp_path / "data", n=2, n_alpaca=2)


def test_port_in_use_is_an_error_before_any_server(tmp_path: Path, data: dict[str, Any], capsys: Any) -> None:
    _ckpt(tmp_path / "run" / "checkpoint-1")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, text = _sweep([str(tmp_path / "run"), "--serve", "gage", "--port", str(port), "--benchmarks", "ifeval",
                             "--dataset-args", json.dumps({"ifeval": data["ifeval"]}), "--output-dir",
                             str(tmp_path / "out")], capsys)
    assert code == 2 and f"port {port} is already in use" in text and "--port" in text
    assert not (tmp_path / "out" / "logs").exists()  # no server was started


def test_judge_url_down_is_an_error_before_generating(tmp_path: Path, data: dict[str, Any], capsys: Any) -> None:
    _ckpt(tmp_path / "run" / "checkpoint-1")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]  # nothing listens once closed
    code, text = _sweep([str(tmp_path / "run"), "--serve", "gage", "--port", "0", "--benchmarks", "alpacaeval",
                         "--dataset-args", json.dumps({"alpaca_eval2": data["alpaca_eval2"]}),
                         "--judge-api-base", f"http://127.0.0.1:{dead}/v1", "--judge-model", "j",
                         "--output-dir", str(tmp_path / "out")], capsys)
    assert code == 1 and "the judge at" in text and "connection refused" in text and "fix:" in text
    assert not (tmp_path / "out" / "logs").exists()
    code, text = _sweep([str(tmp_path / "run"), "--benchmarks", "alpacaeval", "--dataset-args",
                         json.dumps({"alpaca_eval2": data["alpaca_eval2"]}), "--output-dir", str(tmp_path / "o2")],
                        capsys)
    assert code == 2 and "scored by a judge, and no judge is given" in text


def _config(tmp_path: Path, models: list[dict[str, Any]], judge_url: str, data: dict[str, Any]) -> Path:
    cfg = {"models": models, "judge": {"api_base": judge_url, "model_name": "judge", "api_key_env": "SWEEP_JUDGE_KEY"},
           "benchmarks": {"ifeval": True, "truthfulqa": {"limit": 1}, "alpacaeval": False, "livebench": False},
           "output_dir": str(tmp_path / "out"),
           "datasets_note": None}
    cfg.pop("datasets_note")
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_config_file_mode_with_running_servers(tmp_path: Path, data: dict[str, Any], capsys: Any,
                                               monkeypatch: Any) -> None:
    monkeypatch.setenv("SWEEP_JUDGE_KEY", "judge-secret-123")
    monkeypatch.setenv("SWEEP_MODEL_KEY", "model-secret-456")
    args = json.dumps({k: v for k, v in data.items() if k in ("ifeval", "truthfulqa_gen")})
    short = run_server_in_thread(TestServerConfig(script=lambda b: "ok"))
    long = run_server_in_thread(TestServerConfig(script=lambda b: "a much longer answer here", require_api_key=
                                                 "model-secret-456"))
    with short as a, long as b, run_server_in_thread(TestServerConfig(script=judge_script,
                                                                      require_api_key="judge-secret-123")) as judge:
        path = _config(tmp_path, [{"id": "sft-step-50", "api_name": "m", "api_base": a.base_url},
                                  {"id": "sft-step-90", "api_name": "m", "api_base": b.base_url,
                                   "api_key_env": "SWEEP_MODEL_KEY"}], judge.base_url, data)
        code, text = _sweep(["--config", str(path), "--dataset-args", args], capsys)
        assert code == 0, text
        out = tmp_path / "out"
        state = json.loads((out / "sweep.json").read_text())
        assert state["servers_started"] == 0 and state["order"] == ["sft-step-50", "sft-step-90"]
        summary = json.loads((out / "runs" / "sft-step-90__truthfulqa" / "summary.json").read_text())
        assert summary["sample_count"] == 1  # benchmarks.truthfulqa.limit; no MC: the server gives no logprobs
        assert summary["metrics"]["truthful_and_informative"]["value"] == 1.0  # long answer, even length
        rows = (out / "leaderboard.csv").read_text()
        assert "sft-step-50,50," in rows and "sft-step-90,90," in rows
        for file in out.rglob("*"):
            if file.is_file():
                body = file.read_bytes()
                assert b"judge-secret-123" not in body and b"model-secret-456" not in body, file
        # --phase evaluate on a fresh folder lists exactly what was not generated
        code, text = _sweep(["--config", str(path), "--dataset-args", args, "--phase", "evaluate",
                             "--output-dir", str(tmp_path / "fresh")], capsys)
        assert code == 1 and "no generated answers for 4 of 4" in text
        for unit in ("sft-step-50/ifeval", "sft-step-50/truthfulqa", "sft-step-90/ifeval", "sft-step-90/truthfulqa"):
            assert f"{unit}: not generated" in text
        code, text = _sweep(["--config", str(path), "--dataset-args", args, "--phase", "generate",
                             "--benchmarks", "ifeval", "--output-dir", str(tmp_path / "fresh")], capsys)
        assert code == 0, text
        code, text = _sweep(["--config", str(path), "--dataset-args", args, "--phase", "evaluate",
                             "--output-dir", str(tmp_path / "fresh")], capsys)
        assert code == 1 and "no generated answers for 2 of 4" in text and "sft-step-50/ifeval" not in text

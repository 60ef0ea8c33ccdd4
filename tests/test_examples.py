"""Every shipped example config runs offline: the demo on the dummy backend, the HTTP ones on the test server."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import gage_eval
from gage_eval.testing.server import OpenAITestServer, TestServerConfig

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "config").glob("*/*.yaml")) + sorted((ROOT / "config").glob("builtin_templates/*/*.yaml"))


def _point_at(cfg: dict, base_url: str) -> dict:
    for backend in cfg.get("backends", []):
        if backend["type"] == "openai_http":
            backend["config"]["base_url"] = base_url
    for adapter in cfg.get("role_adapters", []):
        if adapter.get("backend", {}).get("type") == "openai_http":
            adapter["backend"]["config"]["base_url"] = base_url
    return cfg


def _answer(body: dict) -> str:
    text = body["messages"][-1]["content"]
    if "[The Start of Assistant's Answer]" in text and "Rating: [[" in text:
        return "The answer is right. Rating: [[9]]"
    for key, letter in {"Red Planet": "B", "7 x 8": "B", "photosynthesis": "C", "boiling": "B"}.items():
        if key in text:
            return f"The answer is ({letter})"
    return text.splitlines()[-1]


def test_demo_quickstart_via_cli_and_run_py(tmp_path: Path) -> None:
    for entry in (["-m", "gage_eval", "run"], [str(ROOT / "run.py"), "--config"]):
        run_id = "cli" if "-m" in entry else "runpy"
        proc = subprocess.run([sys.executable, *entry, "config/run_configs/demo_echo_run_1.yaml",
                               "--output-dir", str(tmp_path), "--run-id", run_id],
                              cwd=ROOT, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        summary = json.loads((tmp_path / run_id / "summary.json").read_text())
        assert summary["metrics"]["exact_match"]["value"] == pytest.approx(0.8)
        assert summary["run"]["template"] == "demo_echo@V1"
        assert {p.name for p in (tmp_path / run_id).iterdir()} >= {"events.jsonl", "samples.jsonl", "summary.json",
                                                                    "logs"}


@pytest.mark.parametrize("name", ["mc_openai_http", "multi_task_openai_http_demo", "single_task_local_judge"])
async def test_http_examples_run_on_the_test_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    name: str) -> None:
    monkeypatch.chdir(ROOT)
    cfg = yaml.safe_load((ROOT / "config" / "custom" / f"{name}.yaml").read_text())
    async with OpenAITestServer(TestServerConfig(script=_answer)) as server:
        result = await gage_eval.arun(_point_at(cfg, server.base_url), output_dir=tmp_path, run_id=name,
                                      progress="off")
    assert result.status == "completed" and result.summary["failures"]["total"] == 0
    tasks = {t["task_id"]: t for t in result.summary["tasks"]}
    if name == "mc_openai_http":
        assert tasks[name]["metrics"]["multi_choice_accuracy"]["value"] == pytest.approx(4 / 8)
    elif name == "multi_task_openai_http_demo":
        assert tasks["mc_demo_eval"]["metrics"]["multi_choice_acc"]["value"] == pytest.approx(4 / 5)
        assert tasks["qa_demo_eval"]["sample_count"] == 8
    else:
        assert tasks[name]["metrics"]["judge_score"]["value"] == 9.0
        assert result.summary["summary_generators"]["judge_usage"]["calls"] == 8


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_shipped_config_validates(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    from gage_eval.cli.config_cmds import validate_file
    from gage_eval.config.loading import read_yaml
    from gage_eval.config.templates import load_template

    if read_yaml(path).get("kind") == "BuiltinTemplate":
        load_template(path)  # digest check
    else:
        assert "ok" in validate_file(path)


def _notes_agent(body: dict) -> object:
    """A model that uses config/mcp/notes_server.py's tools as the example's tasks ask (OpenAI tool calls)."""
    from gage_eval.testing.tool_replies import call, reply

    task = next(m["content"] for m in body["messages"] if m["role"] == "user")
    results = [m["content"] for m in body["messages"] if m["role"] == "tool"]
    if "'fruit'" in task:
        plan = [reply(call("save_note", {"title": "fruit", "text": "orange"})), reply(call("read_note", {"title": "fruit"}))]
    elif "'shopping'" in task:
        plan = [reply(call("save_note", {"title": "shopping", "text": "milk"}),
                      call("save_note", {"title": "breakfast", "text": "eggs"})), reply(call("list_notes"))]
    else:
        plan = [reply(call("read_note", {"title": "missing"}))]
        if results:
            return "no note" if "no note titled" in results[-1] else results[-1]
    turn = sum(1 for m in body["messages"] if m["role"] == "assistant")
    return plan[turn] if turn < len(plan) else results[-1]


async def test_agent_example_runs_on_the_test_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    cfg = yaml.safe_load((ROOT / "config" / "custom" / "agent_mcp_tasks.yaml").read_text())
    async with OpenAITestServer(TestServerConfig(script=_notes_agent)) as server:
        result = await gage_eval.arun(_point_at(cfg, server.base_url), output_dir=tmp_path, run_id="agent",
                                      progress="off")
    assert result.status == "completed" and result.metrics["judge_verdict"]["value"] == 1.0
    records = {json.loads(line)["sample_id"]: json.loads(line) for line in
               (tmp_path / "agent" / "samples.jsonl").read_text().splitlines()}
    assert records["shopping"]["trajectory"]["tool_call_count"] == 3
    assert records["missing"]["trajectory"]["turns"][0]["tool_calls"][0]["status"] == "error"
    tools = [t["name"] for t in records["fruit"]["sample"]["support_outputs"][0]["tools"]]
    assert tools == ["save_note", "read_note", "list_notes", "calculator"]

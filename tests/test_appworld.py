"""AppWorld without its data or package: the clear error that says to run `appworld download data`; tasks and API
docs read from AppWorld's data layout; and the agent loop end to end against an environment server speaking
AppWorld's remote protocol (POST /<method> {task_id, ...} -> {"output": ...}) — a stand-in, because the real one
needs AppWorld's downloaded data and its own environment (it pins pydantic 1) — with its test reports scored as
Task / Scenario Goal Completion."""
from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from gage_eval.benchmarks.appworld.data import api_tools
from gage_eval.benchmarks.appworld.preprocess import goal_completion
from gage_eval.cli.app import main
from gage_eval.testing import tool_replies
from gage_eval.testing.server import TestServerConfig, run_server_in_thread

from .conftest import read_jsonl

TASKS = {"a1b2c3d_1": "How many songs are in my library?", "a1b2c3d_2": "How many playlists do I have?",
         "e4f5a6b_1": "Pay my last bill."}


def _data(root: Path) -> Path:
    """AppWorld's layout: data/datasets/dev.txt, data/tasks/<id>/specs.json, data/api_docs/standard/<app>.json."""
    data = root / "data"
    (data / "datasets").mkdir(parents=True)
    (data / "datasets" / "dev.txt").write_text("".join(f"{t}\n" for t in TASKS))
    for task_id, instruction in TASKS.items():
        (data / "tasks" / task_id).mkdir(parents=True)
        (data / "tasks" / task_id / "specs.json").write_text(json.dumps({
            "instruction": instruction, "datetime": "2023-05-18T12:00:00", "db_version": "0.1",
            "supervisor": {"first_name": "Ann", "last_name": "Lee", "email": "ann@x.com", "phone_number": "123"}}))
    (data / "api_docs" / "standard").mkdir(parents=True)
    (data / "api_docs" / "standard" / "supervisor.json").write_text(json.dumps({
        "complete_task": {"description": "Mark the task complete.", "parameters": [
            {"name": "answer", "type": "string", "required": False, "description": "The answer.", "default": None}]},
        "show_account_passwords": {"description": "Show passwords.", "parameters": []}}))
    (data / "api_docs" / "standard" / "spotify.json").write_text(json.dumps({
        "login": {"description": "Log in.", "parameters": [
            {"name": "username", "type": "string", "required": True, "description": "Email."},
            {"name": "password", "type": "string", "required": True, "description": "Password."}]}}))
    return root


class EnvironmentServer:
    """Answers AppWorld's environment methods; a task succeeds when complete_task ran with answer '3'."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.answers: dict[str, str] = {}
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        method, body = request.match_info["method"], await request.json()
        self.calls.append((method, body))
        task = body["task_id"]
        if method == "execute":
            code = body["code"]
            if "complete_task" in code:
                self.answers[task] = code
            return web.json_response({"output": "{'accounts': ['spotify']}" if "passwords" in code else "null"})
        if method == "evaluate":
            ok = "'answer': '3'" in self.answers.get(task, "")
            test = {"requirement": "assert answer == 3", "label": "no_op_fail"}
            return web.json_response({"output": {"success": ok, "difficulty": 1, "num_tests": 1,
                                                 "passes": [test] if ok else [], "failures": [] if ok else [test]}})
        return web.json_response({"output": None})

    def run(self) -> Iterator[EnvironmentServer]:
        loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_post("/{method}", self.handle)
        runner = web.AppRunner(app)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # noqa: SLF001
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)


def _policy(body: dict[str, Any]) -> Any:
    last = body["messages"][-1]
    names = {t["function"]["name"] for t in body.get("tools") or []}
    assert {"supervisor__complete_task", "spotify__login"} <= names
    if last["role"] == "user":
        return tool_replies.reply(tool_replies.call("supervisor__show_account_passwords", {}))
    if "songs" in body["messages"][1]["content"] and last["role"] == "tool" and "accounts" in last["content"]:
        return tool_replies.reply(tool_replies.call("supervisor__complete_task", {"answer": "3"}))
    if last["role"] == "tool" and "accounts" in last["content"]:
        return tool_replies.reply(tool_replies.call("supervisor__complete_task", {"answer": "7"}))
    return "done"


def _run_config(tmp_path: Path, root: Path, model_url: str, env_url: str) -> Path:
    path = tmp_path / "appworld.yaml"
    path.write_text(yaml.safe_dump({"kind": "RunConfig", "base_task": "builtin/appworld", "runtime": {
        "datasets": [{"dataset_id": "appworld", "params": {"path": str(root)}}],
        "backends": [{"backend_id": "model", "type": "openai_http",
                      "config": {"base_url": model_url, "model": "test-model"}}],
        "role_adapters": [{"adapter_id": "dut", "params": {"environment_url": env_url, "max_steps": 5}}]}}))
    return path


def test_without_downloaded_data_the_error_says_to_download_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                               ) -> None:
    with pytest.raises(SystemExit) as done:
        main(["eval", "--model", "m", "--api-url", "http://127.0.0.1:9/v1", "--datasets", "appworld",
              "--dataset-args", json.dumps({"appworld": {"local_path": str(tmp_path)}}),
              "--work-dir", str(tmp_path / "runs"), "--run-id", "aw", "--progress", "off", "--no-preflight"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "AppWorld's data are not downloaded" in err and "appworld download data" in err
    samples = tmp_path / "runs" / "aw" / "samples.jsonl"
    assert not samples.exists() or samples.read_text() == ""  # nothing ran


def test_api_docs_become_tools(tmp_path: Path) -> None:
    tools = {t["function"]["name"]: t["function"] for t in api_tools(_data(tmp_path) / "data")}
    assert set(tools) == {"supervisor__complete_task", "supervisor__show_account_passwords", "spotify__login"}
    assert tools["spotify__login"]["parameters"] == {
        "type": "object", "required": ["username", "password"],
        "properties": {"username": {"type": "string", "description": "Email."},
                       "password": {"type": "string", "description": "Password."}}}


def test_goal_completion_is_appworld_s_formula() -> None:
    # two scenarios: a1b2c3d (1 of 2 tasks) and e4f5a6b (0 of 1): TGC = 1/3, SGC = mean(min) = 0
    assert goal_completion({"a1b2c3d_1": True, "a1b2c3d_2": False, "e4f5a6b_1": False}) == {
        "task_goal_completion": 33.3, "scenario_goal_completion": 0.0, "tasks": 3, "scenarios": 2}
    assert goal_completion({"a1b2c3d_1": True, "a1b2c3d_2": True, "e4f5a6b_1": False})["scenario_goal_completion"] == 50.0


def test_agent_runs_tasks_on_the_environment_server_and_its_evaluate_judges(tmp_path: Path) -> None:
    root = _data(tmp_path / "aw")
    env = EnvironmentServer()
    with run_server_in_thread(TestServerConfig(script=_policy)) as model:
        for server in env.run():
            with pytest.raises(SystemExit) as done:
                main(["run", str(_run_config(tmp_path, root, model.base_url, server.url)), "--output-dir",
                      str(tmp_path / "runs"), "--run-id", "aw", "--progress", "off"])
    assert done.value.code in (0, None)
    run = tmp_path / "runs" / "aw"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["summary_generators"]["appworld_goal_completion"] == {
        "task_goal_completion": 33.3, "scenario_goal_completion": 0.0, "tasks": 3, "scenarios": 2}
    rows = {r["sample_id"]: r for r in read_jsonl(run / "samples.jsonl")}
    first = rows["a1b2c3d_1"]["model_output"]
    assert first["stop_reason"] == "completed" and first["appworld_evaluation"]["success"] is True
    assert [m["role"] for m in rows["a1b2c3d_1"]["trajectory"]["messages"]][:3] == ["system", "user", "assistant"]
    methods = [m for m, _ in env.calls]
    assert methods.count("initialize") == 3 and methods.count("evaluate") == 3 and methods.count("close") == 3
    executed = [b["code"] for m, b in env.calls if m == "execute"]
    assert "print(apis.supervisor.complete_task(**{'answer': '3'}))" in executed

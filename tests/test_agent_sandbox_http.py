"""MCP over streamable HTTP (a real MCPServer app under uvicorn), sandbox profiles (local for real, docker as
far as no daemon is needed), and the toolchain's config checks through `gage validate`."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import gage_eval
from gage_eval.agents.mcp_tools import MCPConnection, MCPServerSpec
from gage_eval.agents.sandbox_profiles import LocalSession, SandboxManager
from gage_eval.config.models import SandboxProfileSpec
from gage_eval.errors import ConfigError
from gage_eval.steps.context import SampleScope
from gage_eval.testing.server import OpenAITestServer, TestServerConfig
from gage_eval.testing.tool_replies import call, reply
from tests.conftest import read_jsonl, write_jsonl
from tests.uvicorn_thread import UvicornThread

pytest.importorskip("mcp")


class _HTTPMCP(UvicornThread):
    """A streamable-HTTP MCP server (mcp SDK) on 127.0.0.1, in a thread."""

    def __init__(self) -> None:
        from mcp.server.mcpserver import MCPServer

        server = MCPServer("http-tools")
        self.hits = 0

        @server.tool()
        def echo(text: str) -> str:
            """Echo the text back."""
            self.hits += 1
            return text.upper()

        super().__init__(server.streamable_http_app())

    def __enter__(self) -> str:
        return super().__enter__() + "/mcp"


async def test_streamable_http_server_by_url() -> None:
    with _HTTPMCP() as url:
        conn = await MCPConnection(MCPServerSpec(server_id="web", url=url)).start()
        try:
            assert [t.name for t in conn.tools] == ["echo"] and conn.tools[0].source == "mcp:web"
            out = await conn.call("echo", {"text": "hi"}, 5)
            assert (out.content, out.status) == ("HI", "ok")
            missing = await conn.call("nope", {}, 5)
            assert missing.is_error and "nope" in missing.content
        finally:
            await conn.aclose()


async def test_unreachable_http_server_is_a_clear_error() -> None:
    from gage_eval.agents.tools import ToolServerError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    spec = MCPServerSpec(server_id="gone", url=f"http://127.0.0.1:{port}/mcp", startup_timeout_s=10)
    with pytest.raises(ToolServerError, match="MCP server 'gone'"):
        await MCPConnection(spec).start()


def test_server_spec_needs_one_transport() -> None:
    with pytest.raises(ValueError, match="exactly one of command"):
        MCPServerSpec(server_id="x")
    with pytest.raises(ValueError, match="exactly one of command"):
        MCPServerSpec(server_id="x", command="python", url="http://h/mcp")


async def test_local_session_runs_commands_with_timeouts_and_cleans_up(tmp_path: Path) -> None:
    spec = SandboxProfileSpec(profile_id="box", initialize=["echo ready > state.txt"], save=["state.txt", "out"],
                              command_timeout_s=5, env={"GREETING": "hi"})
    manager = SandboxManager([spec], tmp_path)
    scope = SampleScope("t", "s1")
    session = await manager.session("box", scope, tmp_path / "artifacts")
    root = Path(session.workdir)
    assert (root / "state.txt").read_text() == "ready\n"  # initialize ran
    done = await session.exec("mkdir out && echo $GREETING > out/a.txt && cat out/a.txt && echo err >&2; exit 3")
    assert (done.exit_code, done.stdout, done.stderr, done.timed_out) == (3, "hi\n", "err\n", False)
    assert done.text() == "hi\n[stderr]\nerr\n[exit code 3]"
    start = time.monotonic()
    slow = await session.exec("sleep 30 & sleep 30; echo never", timeout_s=0.5)
    assert slow.timed_out and slow.exit_code is None and time.monotonic() - start < 10 and "never" not in slow.stdout
    await scope.aclose()
    assert not root.exists()
    assert (tmp_path / "artifacts" / "state.txt").read_text() == "ready\n"
    assert (tmp_path / "artifacts" / "out" / "a.txt").read_text() == "hi\n"
    with pytest.raises(ConfigError, match="unknown sandbox profile 'bx'") as info:
        manager.check("bx", "role_adapters[0].params.sandbox_profile")
    assert "box" in info.value.fix


async def test_local_session_without_network_when_the_kernel_allows() -> None:
    session = await LocalSession(SandboxProfileSpec(profile_id="n")).start()
    try:
        out = await session.exec(f"{sys.executable} -c \"import socket; socket.create_connection(('127.0.0.1', 9), 1)\"")
        if session.prefix:  # a network namespace: not even loopback is reachable
            assert out.exit_code != 0 and "Network is unreachable" in out.stderr
        else:
            pytest.skip(f"no network namespace on this machine: {session.isolation}")
    finally:
        await session.aclose()


def test_docker_profile_arguments_and_missing_daemon(tmp_path: Path) -> None:
    from gage_eval.agents.docker_sandbox import exec_argv, require_docker, run_kwargs

    spec = SandboxProfileSpec(profile_id="d", runtime="docker", image="python:3.11-slim", cpus=1.5, memory="512m",
                              env={"A": "1"}, docker_options={"pids_limit": 64})
    kwargs = run_kwargs(spec, "run1")
    assert kwargs["network_mode"] == "none" and kwargs["nano_cpus"] == 1_500_000_000 and kwargs["mem_limit"] == "512m"
    assert kwargs["labels"] == {"gage-eval.run": "run1"} and kwargs["pids_limit"] == 64 and kwargs["detach"]
    assert exec_argv("ls", 30) == ["timeout", "-k", "5", "30", "/bin/sh", "-c", "ls"]
    with pytest.raises(ValueError, match="needs an image"):
        SandboxProfileSpec(profile_id="d", runtime="docker")
    try:
        require_docker(spec, "sandbox_profiles[0]")
    except ConfigError as exc:
        assert "uses runtime: docker, and no Docker daemon is reachable" in exc.message
        assert "runtime: local" in exc.fix
    else:
        pytest.skip("a Docker daemon is reachable here; the missing-daemon message cannot be shown")


def _validate(tmp_path: Path, cfg: dict) -> subprocess.CompletedProcess:
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return subprocess.run([sys.executable, "-m", "gage_eval", "validate", str(path)], capture_output=True, text=True)


def _agent_cfg(data: Path, toolchain: dict, **extra) -> dict:
    return {"kind": "PipelineConfig", "datasets": [{"dataset_id": "d", "loader": "jsonl", "params": {"path": str(data)}}],
            "backends": [{"backend_id": "m", "type": "openai_http", "config": {"base_url": "http://127.0.0.1:9/v1",
                                                                              "model": "m"}}],
            "role_adapters": [{"adapter_id": "tools", "role_type": "toolchain", "params": toolchain},
                              {"adapter_id": "agent", "role_type": "dut_agent", "backend_id": "m"}],
            "custom": {"steps": [{"step": "support", "adapter_id": "tools"},
                                 {"step": "inference", "adapter_id": "agent"}]}, **extra}


def test_validate_names_the_bad_setting(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": "a", "prompt": "x"}])
    docker = _validate(tmp_path, _agent_cfg(data, {"python_tools": ["shell"], "sandbox_profile": "d"},
                                            sandbox_profiles=[{"profile_id": "d", "runtime": "docker",
                                                               "image": "python:3.11-slim"}]))
    if docker.returncode == 0:
        pytest.skip("a Docker daemon is reachable here")
    assert docker.returncode == 2 and "role_adapters[0].params.sandbox_profile" in docker.stderr
    assert "no Docker daemon is reachable" in docker.stderr and "Traceback" not in docker.stderr
    no_box = _validate(tmp_path, _agent_cfg(data, {"python_tools": ["shell"]}))
    assert no_box.returncode == 2 and "role_adapters[0].params.python_tools[0]" in no_box.stderr
    assert "has no sandbox_profile" in no_box.stderr
    typo = _validate(tmp_path, _agent_cfg(data, {"tool_doc_format": "tool"}))
    assert typo.returncode == 2 and "role_adapters[0].params.tool_doc_format" in typo.stderr and "'tools'" in typo.stderr
    bad_server = _validate(tmp_path, _agent_cfg(data, {"mcp_servers": [{"server_id": "x"}]}))
    assert bad_server.returncode == 2 and "role_adapters[0].params.mcp_servers[0]" in bad_server.stderr
    completions = _agent_cfg(data, {"python_tools": ["calculator"]})
    completions["backends"][0]["config"]["api"] = "completions"
    no_tools = _validate(tmp_path, completions)
    assert no_tools.returncode == 2 and "does not support tools" in no_tools.stderr
    assert "tool_doc_format: prompt" in no_tools.stderr


async def test_shell_tool_in_a_local_sandbox_through_a_run(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": "s1", "prompt": "make a file", "label": "done"}])

    def model(body: dict) -> object:
        if len(body["messages"]) == 1:
            return reply(call("shell", {"command": "echo made > result.txt && ls"}))
        return "done"

    async with OpenAITestServer(TestServerConfig(script=model)) as srv:
        cfg = _agent_cfg(data, {"python_tools": ["shell"], "sandbox_profile": "box"},
                         sandbox_profiles=[{"profile_id": "box", "save": ["result.txt"]}])
        cfg["backends"][0]["config"]["base_url"] = srv.base_url
        result = await gage_eval.arun(cfg, output_dir=tmp_path, run_id="box", progress="off")
    assert result.status == "completed"
    traj = read_jsonl(tmp_path / "box" / "samples.jsonl")[0]["trajectory"]
    assert traj["messages"][2]["content"] == "result.txt\n[exit code 0]"
    assert (tmp_path / "box" / "artifacts" / "d" / "s1" / "result.txt").read_text() == "made\n"


async def test_prompt_mode_with_a_shared_http_server_through_a_run(tmp_path: Path) -> None:
    """tool_doc_format: prompt documents the tools in the system message and reads the model's text; a per_task
    HTTP server serves every sample over one session."""
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": f"s{i}", "prompt": f"shout w{i}", "label": f"W{i}"}
                                              for i in range(3)])
    seen: list[dict] = []

    def model(body: dict) -> str:
        seen.append(body)
        word = body["messages"][1]["content"].split()[-1]
        if body["messages"][-1]["role"] == "user" and "<tool_response>" in body["messages"][-1]["content"]:
            return body["messages"][-1]["content"].split('"content": "')[1].split('"')[0]
        return f'<tool_call>\n{{"name": "echo", "arguments": {{"text": "{word}"}}}}\n</tool_call>'

    with _HTTPMCP() as url:
        async with OpenAITestServer(TestServerConfig(script=model, verbatim=True)) as srv:
            cfg = _agent_cfg(data, {"mcp_servers": [{"server_id": "web", "url": url, "lifecycle": "per_task"}],
                                    "tool_doc_format": "prompt"}, metrics=["exact_match"])
            cfg["backends"][0]["config"]["base_url"] = srv.base_url
            cfg["custom"]["steps"].append({"step": "auto_eval"})
            result = await gage_eval.arun(cfg, output_dir=tmp_path, run_id="p", progress="off")
    assert result.status == "completed" and result.metrics["exact_match"]["value"] == 1.0
    system = seen[0]["messages"][0]
    assert system["role"] == "system" and "<tool_call>" in system["content"] and '"name": "echo"' in system["content"]
    assert all("tools" not in body for body in seen)  # documented in the prompt, not passed as definitions
    traj = read_jsonl(tmp_path / "p" / "samples.jsonl")[0]["trajectory"]
    assert traj["turns"][0]["tool_calls"][0]["source"] == "mcp:web"

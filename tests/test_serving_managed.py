"""ManagedServer and `launch:` with real subprocesses: start, wait, always stop; clear errors on bad input."""
from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from gage_eval.config.quick import compile_quick, quick_task
from gage_eval.errors import ConfigError
from gage_eval.serving.launch import LaunchConfig, build_argv
from gage_eval.serving.managed import ManagedServer, ServerError

from .conftest import pipeline, read_jsonl, write_jsonl

PY = sys.executable
TEST_SERVER = f"{PY} -m gage_eval.testing.server --port {{port}}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead but still has a pid until its parent reaps it.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


def _server(tmp_path: Path, **launch: object) -> ManagedServer:
    cfg = LaunchConfig.model_validate({"model_path": str(tmp_path), "ready_timeout_s": 20, **launch})
    return ManagedServer(cfg, name="t", log_dir=tmp_path / "logs")


def test_presets_build_the_documented_command_lines() -> None:
    vllm = LaunchConfig(preset="vllm", model_path="/m", gpu_memory_utilization=0.8, tensor_parallel_size=2,
                        max_model_len=4096, served_model_name="m")
    assert build_argv(vllm, "/m", 8001) == ["vllm", "serve", "/m", "--host", "127.0.0.1", "--port", "8001",
                                            "--gpu-memory-utilization", "0.8", "--tensor-parallel-size", "2",
                                            "--max-model-len", "4096", "--served-model-name", "m"]
    sglang = build_argv(LaunchConfig(preset="sglang", model_path="/m"), "/m", 9)
    assert sglang[:3] == [PY, "-m", "sglang.launch_server"] and sglang[sglang.index("--model-path") + 1] == "/m"
    tgi = build_argv(LaunchConfig(preset="tgi", model_path="/m"), "/m", 9)
    assert tgi[0] == "text-generation-launcher" and tgi[tgi.index("--model-id") + 1] == "/m"
    gage = build_argv(LaunchConfig(preset="gage", model_path="/m", args=["--batch-size", "4"]), "/m", 9)
    assert gage[:5] == [PY, "-m", "gage_eval", "serve", "/m"] and gage[-2:] == ["--batch-size", "4"]
    # A template keeps a path with spaces as one argument.
    cmd = LaunchConfig(command="srv --model {model_path} --port {port} --name {served_model_name}")
    assert build_argv(cmd, "/a b", 7) == ["srv", "--model", "/a b", "--port", "7", "--name", "model"]


@pytest.mark.parametrize("launch, message", [
    ({}, "exactly one of preset"),
    ({"preset": "gage", "command": "x {port}"}, "exactly one of preset"),
    ({"command": "srv --model {model_path}"}, "must contain {port}"),
    ({"preset": "gage", "port": 70000}, "port"),
])
def test_invalid_launch_settings_are_config_errors(tmp_path: Path, launch: dict, message: str) -> None:
    from gage_eval.config import config_from_dict

    cfg = pipeline(write_jsonl(tmp_path / "d.jsonl", [{"id": "1", "prompt": "p", "label": "p"}]),
                   backends=[{"backend_id": "echo", "type": "openai_http", "config": {"model": "m"},
                              "launch": launch}])
    with pytest.raises(ConfigError) as err:
        config_from_dict(cfg)
    assert "launch" in err.value.render() and message in err.value.render()


def test_a_server_starts_serves_and_stops(tmp_path: Path) -> None:
    async def go() -> int:
        async with _server(tmp_path, command=TEST_SERVER) as server:
            assert server.port and server.base_url == f"http://127.0.0.1:{server.port}/v1"
            with socket.create_connection(("127.0.0.1", server.port), timeout=2):
                pass
            return server.pid or 0

    pid = asyncio.run(go())
    assert pid and not _alive(pid)
    log = (tmp_path / "logs" / "server-t.log").read_text()
    assert log.startswith("$ ") and "READY http://127.0.0.1:" in log  # the server's own output is in the log


def test_a_server_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    code = ("import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "from gage_eval.testing.server import main; main(['--port', '{port}'])")
    server = _server(tmp_path, command=f"{PY} -c \"{code}\"", stop_grace_s=0.5)

    async def go() -> None:
        async with server:
            pass

    start = time.monotonic()
    asyncio.run(go())
    assert server.pid and not _alive(server.pid)
    assert server.proc is not None and server.proc.returncode == -signal.SIGKILL
    assert time.monotonic() - start < 30


def test_the_whole_process_group_is_stopped(tmp_path: Path) -> None:
    """A server that forks workers (vLLM, SGLang): the workers go too."""
    pid_file = tmp_path / "child.pid"
    code = (f"import subprocess; p = subprocess.Popen(['sleep', '300']); open('{pid_file}', 'w').write(str(p.pid)); "
            "from gage_eval.testing.server import main; main(['--port', '{port}'])")

    async def go() -> None:
        async with _server(tmp_path, command=f"{PY} -c \"{code}\""):
            pass

    asyncio.run(go())
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def _fails(server: ManagedServer, within_s: float) -> ServerError:
    async def go() -> None:
        async with server:
            raise AssertionError("the server should not have become ready")

    start = time.monotonic()
    with pytest.raises(ServerError) as err:
        asyncio.run(go())
    assert time.monotonic() - start < within_s
    if server.pid is not None:
        assert not _alive(server.pid)
    return err.value


def test_a_model_path_that_does_not_exist_fails_before_launching(tmp_path: Path) -> None:
    server = _server(tmp_path, command=TEST_SERVER, model_path=str(tmp_path / "missing"))
    err = _fails(server, 5)
    assert server.proc is None
    assert "does not exist" in err.render() and "missing" in err.render() and "model_path" in err.fix


def test_a_command_that_exits_at_once_shows_its_last_log_lines(tmp_path: Path) -> None:
    code = "import sys; print('CUDA not available: cannot start (port {port})'); sys.exit(3)"
    err = _fails(_server(tmp_path, command=f"{PY} -c \"{code}\""), 10)
    assert "exited with code 3" in err.render() and "CUDA not available" in err.render()


def test_a_command_that_cannot_be_found(tmp_path: Path) -> None:
    err = _fails(_server(tmp_path, command="no-such-server-binary --port {port}"), 5)
    assert "no-such-server-binary" in err.render() and "install" in err.fix


def test_a_server_that_never_becomes_ready_times_out(tmp_path: Path) -> None:
    code = "import time; time.sleep(300)  # {port}"
    err = _fails(_server(tmp_path, command=f"{PY} -c \"{code}\"", ready_timeout_s=1.5), 10)
    assert "not ready after 1.5s" in err.render() and "ready_timeout_s" in err.fix


def test_a_port_in_use_is_a_clear_error_at_once(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = _server(tmp_path, command=TEST_SERVER, port=port)
        err = _fails(server, 3)
    assert server.proc is None
    assert f"port {port}" in err.render() and "in use" in err.render()


def _launch_config(tmp_path: Path, n: int, latency_ms: float) -> Path:
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": f"s{i}", "prompt": f"p{i}", "label": f"p{i}"} for i in range(n)])
    cfg = pipeline(data, backends=[{"backend_id": "srv", "type": "openai_http", "config": {"model": "m"},
                                    "launch": {"command": f"{TEST_SERVER} --latency-ms {latency_ms}",
                                               "model_path": str(tmp_path), "ready_timeout_s": 30}}],
                   metrics=["exact_match"], execution={"concurrency": 2})
    cfg["role_adapters"][0]["backend_id"] = "srv"
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _server_pid(run_dir: Path) -> int:
    match = re.search(r"server srv started \(pid (\d+)\)", (run_dir / "logs" / "run.log").read_text())
    assert match, (run_dir / "logs" / "run.log").read_text()
    return int(match.group(1))


def test_gage_run_starts_the_launched_server_and_stops_it(tmp_path: Path) -> None:
    cfg = _launch_config(tmp_path, 6, 0)
    done = subprocess.run([PY, "-m", "gage_eval", "run", str(cfg), "--output-dir", str(tmp_path / "runs"),
                           "--run-id", "r", "--progress", "off"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    run_dir = tmp_path / "runs" / "r"
    assert json.loads((run_dir / "summary.json").read_text())["metrics"]["exact_match"]["value"] == 1.0
    assert not _alive(_server_pid(run_dir))
    assert (run_dir / "logs" / "server-srv.log").stat().st_size > 0


def test_model_path_flag_overrides_the_launch_model_path(tmp_path: Path) -> None:
    cfg = _launch_config(tmp_path, 2, 0)
    done = subprocess.run([PY, "-m", "gage_eval", "run", str(cfg), "--output-dir", str(tmp_path / "runs"),
                           "--run-id", "r", "--progress", "off", "--model-path", str(tmp_path / "nope")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "model path" in done.stderr and "nope' does not exist" in done.stderr and "launch" in done.stderr


def _terminal_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _background_job() -> None:
    # What nohup and `cmd &` in a script give: SIGINT ignored. SIGTERM must still stop gage and its server.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("sig, preexec", [(signal.SIGTERM, _terminal_sigint), (signal.SIGINT, _terminal_sigint),
                                          (signal.SIGTERM, _background_job)])
def test_sigterm_or_ctrl_c_of_gage_mid_run_stops_the_server(tmp_path: Path, sig: signal.Signals,
                                                            preexec: object) -> None:
    cfg = _launch_config(tmp_path, 400, 50)
    run_dir = tmp_path / "runs" / "r"
    proc = subprocess.Popen([PY, "-m", "gage_eval", "run", str(cfg), "--output-dir", str(tmp_path / "runs"),
                             "--run-id", "r", "--progress", "off"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=preexec)  # type: ignore[arg-type]
    samples = run_dir / "samples.jsonl"
    deadline = time.monotonic() + 60
    while not (samples.exists() and samples.read_bytes().count(b"\n") >= 5) and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = _server_pid(run_dir)
    assert _alive(pid)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert not _alive(pid)
    assert 5 <= len(read_jsonl(samples)) < 400


def test_quick_mode_serve_compiles_a_launched_completions_backend(tmp_path: Path) -> None:
    task = quick_task({"model": str(tmp_path), "datasets": ["arc_easy"], "serve": "gage",
                       "serve_args": {"port": 8123}})
    backend = compile_quick(task)["backends"][0]
    assert backend["type"] == "openai_http" and backend["config"]["api"] == "completions"
    assert backend["launch"] == {"preset": "gage", "model_path": str(tmp_path), "port": 8123}
    custom = compile_quick(quick_task({"model": str(tmp_path), "datasets": ["gsm8k"],
                                       "serve": "srv --port {port} --m {model_path}"}))["backends"][0]
    assert custom["launch"]["command"] == "srv --port {port} --m {model_path}"
    with pytest.raises(ConfigError) as err:
        compile_quick(quick_task({"model": str(tmp_path), "datasets": ["gsm8k"], "serve": "vlm"}))
    assert err.value.path == "serve" and "{port}" in err.value.render()


def test_gage_validate_checks_a_launch_without_starting_it(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from gage_eval.cli.app import main

    cfg = _launch_config(tmp_path, 2, 0)
    with pytest.raises(SystemExit) as done:
        main(["validate", str(cfg)])
    assert done.value.code in (0, None)
    assert not (tmp_path / "logs").exists()
    data = yaml.safe_load(cfg.read_text())
    data["backends"][0]["launch"]["model_path"] = str(tmp_path / "gone")
    cfg.write_text(yaml.safe_dump(data))
    with pytest.raises(SystemExit) as done:
        main(["validate", str(cfg)])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "backends[0].launch.model_path" in err and "does not exist" in err

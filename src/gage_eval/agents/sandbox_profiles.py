"""Sandbox profiles (`sandbox_profiles` in the PipelineConfig): where agent tools and graders run commands.

A profile makes sessions; a session has a working directory and runs shell commands in it:

    result = await session.exec("pytest -q", timeout_s=60)   # ExecResult(exit_code, stdout, stderr, ...)

- `local`: a fresh temporary directory, commands as subprocesses in their own process group with the
  subprocess sandbox's isolation (gage_eval.sandbox: `unshare` network namespace where the kernel allows
  it; RLIMIT_AS / RLIMIT_FSIZE; a minimal environment without the parent's secrets), the group killed at
  the timeout. An accident guard, not a jail (see gage_eval.sandbox.subprocess_runner).
- `docker`: a container per session through the docker SDK (docker_sandbox.py), `network_mode: none` by
  default, CPU and memory limits, removed at the end — also on errors and Ctrl-C.

`lifecycle: per_sample` gives each sample its own session, closed with the sample (steps/context.py
SampleScope); `per_task` shares one session across the samples, closed at the end of the run.
`initialize` commands run when a session starts; `save` paths are copied out to
`<run>/artifacts/<task>/<sample>/` before it is torn down.
"""
from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from gage_eval.config.models import SandboxProfileSpec
from gage_eval.errors import ConfigError, close_match_hint
from gage_eval.sandbox.subprocess_runner import _ENV_PASS, _killpg, _Tail, probe_namespaces

OUTPUT_BYTES = 64 * 1024


@dataclass
class ExecResult:
    exit_code: int | None
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    def text(self) -> str:
        """What a tool shows the model: output, errors, and how it ended."""
        parts = [self.stdout.rstrip()] if self.stdout.strip() else []
        if self.stderr.strip():
            parts.append(f"[stderr]\n{self.stderr.rstrip()}")
        ending = "timed out" if self.timed_out else f"exit code {self.exit_code}"
        parts.append(f"[{ending}]")
        return "\n".join(parts)


class SandboxSession(Protocol):
    workdir: str

    async def exec(self, command: str, timeout_s: float | None = None) -> ExecResult: ...

    async def save(self, paths: list[str], dest: Path) -> list[str]: ...

    async def aclose(self) -> None: ...


def _limits(memory: str | None) -> Any:
    limit = parse_bytes(memory) if memory else None

    def apply() -> None:  # in the child, before exec
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def parse_bytes(text: str) -> int:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([bkmgBKMG]?)", text)
    if m is None:
        raise ValueError(f"not a size: {text!r}")
    return int(float(m.group(1)) * {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[m.group(2).lower()])


class LocalSession:
    """Commands in a temporary directory, isolated as far as this machine allows (see the module doc)."""

    def __init__(self, spec: SandboxProfileSpec, root: Path | None = None, home: Path | None = None) -> None:
        """`root`: run in this existing folder instead of a fresh temporary one (an agent's workspace);
        `home`: HOME and TMPDIR, when scratch files must not land in `root` (default: `root`)."""
        self.spec = spec
        self.root = root if root is not None else Path(tempfile.mkdtemp(prefix=f"gage-{spec.profile_id}-"))
        self.workdir = str(self.root)
        self.home = str(home) if home is not None else self.workdir
        self.prefix: tuple[str, ...] = ()
        self.isolation = "none"
        self._running: set[int] = set()

    async def start(self) -> LocalSession:
        if self.spec.network_mode == "none":
            self.prefix, note = await probe_namespaces()
            self.isolation = "netns" if self.prefix else f"none ({note})"
        return self

    async def exec(self, command: str, timeout_s: float | None = None) -> ExecResult:
        timeout = timeout_s or self.spec.command_timeout_s
        env = {k: os.environ[k] for k in _ENV_PASS if k in os.environ}
        env.update(HOME=self.home, TMPDIR=self.home, **self.spec.env)
        start = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            *self.prefix, "/bin/sh", "-c", command, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=self.workdir, env=env,
            start_new_session=True, preexec_fn=_limits(self.spec.memory))
        self._running.add(proc.pid)
        out, err = _Tail(OUTPUT_BYTES), _Tail(OUTPUT_BYTES)
        readers = asyncio.gather(out.drain(proc.stdout), err.drain(proc.stderr))
        timed_out = False
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except asyncio.TimeoutError:
            timed_out = True
        finally:
            _killpg(proc.pid)  # the command's background children too, and on cancellation
            self._running.discard(proc.pid)
        await proc.wait()
        try:
            await asyncio.wait_for(readers, 2)
        except asyncio.TimeoutError:
            readers.cancel()
        return ExecResult(None if timed_out else proc.returncode, out.text(), err.text(),
                          time.monotonic() - start, timed_out)

    async def save(self, paths: list[str], dest: Path) -> list[str]:
        saved = []
        for path in paths:
            src = (self.root / path.lstrip("/")).resolve()
            if not src.is_relative_to(self.root.resolve()) or not src.exists():
                continue
            target = dest / src.relative_to(self.root.resolve())
            target.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if src.is_dir() else shutil.copy2)(src, target)
            saved.append(str(target))
        return saved

    async def aclose(self) -> None:
        for pid in list(self._running):
            _killpg(pid)
        await asyncio.to_thread(shutil.rmtree, self.root, True)


class SandboxManager:
    """Makes and tracks the sessions of a run's profiles; per_task sessions are closed by `aclose`."""

    def __init__(self, profiles: list[SandboxProfileSpec], run_dir: Path | None = None,
                 run_id: str = "gage") -> None:
        self.profiles = {p.profile_id: p for p in profiles}
        self.run_dir = run_dir
        self.run_id = run_id
        self._shared: dict[str, Any] = {}
        self._lock: asyncio.Lock | None = None

    def check(self, profile_id: str, path: str) -> SandboxProfileSpec:
        spec = self.profiles.get(profile_id)
        if spec is None:
            raise ConfigError(f"unknown sandbox profile '{profile_id}'", path=path,
                              fix=close_match_hint(profile_id, self.profiles) if self.profiles else
                              "declare it under sandbox_profiles: [{profile_id: ..., runtime: local}]")
        if spec.runtime == "docker":
            from gage_eval.agents.docker_sandbox import require_docker

            require_docker(spec, path)
        return spec

    async def _open(self, spec: SandboxProfileSpec) -> Any:
        if spec.runtime == "docker":
            from gage_eval.agents.docker_sandbox import DockerSession

            session: Any = DockerSession(spec, self.run_id)
        else:
            session = LocalSession(spec)
        try:
            await session.start()
            for command in spec.initialize:
                result = await session.exec(command)
                if not result.ok:
                    raise RuntimeError(f"sandbox profile '{spec.profile_id}': initialize command {command!r} "
                                       f"failed: {result.text()[-500:]}")
        except BaseException:
            await asyncio.shield(session.aclose())
            raise
        return session

    async def session(self, profile_id: str, scope: Any, artifacts: Path | None = None) -> Any:
        spec = self.check(profile_id, "sandbox_profile")
        if spec.lifecycle == "per_task":
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                if profile_id not in self._shared:
                    self._shared[profile_id] = await self._open(spec)
            return self._shared[profile_id]
        session = await self._open(spec)

        async def close() -> None:
            try:
                if spec.save and artifacts is not None:
                    await session.save(spec.save, artifacts)
            finally:
                await session.aclose()

        scope.on_close(close)
        return session

    async def aclose(self) -> None:
        shared, self._shared = self._shared, {}
        for profile_id, session in shared.items():
            try:
                spec = self.profiles[profile_id]
                if spec.save and self.run_dir is not None:
                    await session.save(spec.save, self.run_dir / "artifacts" / profile_id)
            finally:
                await session.aclose()


def check_profile_reference(manager: SandboxManager | None, profile_id: str, path: str) -> SandboxProfileSpec:
    if manager is None:
        raise ConfigError(f"sandbox profile '{profile_id}' is used but no sandbox_profiles are declared", path=path,
                          fix="declare it under sandbox_profiles: [{profile_id: ..., runtime: local}]")
    return manager.check(profile_id, path)

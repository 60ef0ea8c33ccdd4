"""A sample's workspace: a writable copy of a source tree that an agent's tools edit, and whose `git diff` can
become the sample's output patch (dut_agent `params.workspace_patch`).

A support step puts one in the sample's scope (`scope.resources["workspace"]`, e.g. the SWE-bench context
provider: a copy of the repository at the base commit); Python tools that take a `workspace` parameter get it
injected (python_tools.py). The copy is made on first use — an agent that never touches it costs nothing — and
removed when the sample leaves the chain (a scope cleanup). `make(dest)` must leave a git repository at `dest`
with the starting state committed, so the diff is exactly what the agent changed.

Paths given by the model are confined: `resolve` refuses any path (`..`, absolute, through a symlink) that ends
outside the copy. Commands run in the copy through a local sandbox session (own process group killed at the
timeout, minimal environment, network namespace where the kernel allows) — an accident guard, not a jail.
"""
from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gage_eval.agents.sandbox_profiles import ExecResult, LocalSession
from gage_eval.config.models import SandboxProfileSpec

WORKSPACE = "workspace"  # key in SampleScope.resources

# Build junk that running the tests leaves behind; it must not end up in the patch (`git add -A`).
EXCLUDES = ("__pycache__/", "*.py[cod]", ".pytest_cache/", "*.egg-info/", ".mypy_cache/", ".tox/", ".coverage")


class WorkspaceError(ValueError):
    """A path outside the workspace, a missing file: an error observation for the agent."""


def _git(args: list[str], cwd: Path) -> str:
    proc = subprocess.run(["git", "-c", "core.quotepath=off", *args], cwd=cwd, capture_output=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"git {args[0]} failed in {cwd}: {proc.stderr.decode(errors='replace')[-300:]}")
    return proc.stdout.decode("utf-8", errors="replace")


class Workspace:
    def __init__(self, make: Callable[[Path], Any], parent: Path | None = None, env: dict[str, str] | None = None,
                 command_timeout_s: float = 120.0, memory: str | None = None) -> None:
        self._make = make
        self._parent = parent
        self._spec = SandboxProfileSpec(profile_id="workspace", env=env or {}, command_timeout_s=command_timeout_s,
                                        memory=memory)
        self._base: Path | None = None
        self._session: LocalSession | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    @property
    def made(self) -> bool:
        return self._session is not None

    @property
    def base(self) -> Path | None:
        """The folder holding the copy (`repo/`) and the commands' HOME (`home/`), once made."""
        return self._base

    async def root(self) -> Path:
        """The copy's folder, made on the first call."""
        async with self._lock:
            if self._closed:
                raise WorkspaceError("the workspace is closed (the sample has finished)")
            if self._session is None:
                if self._parent is not None:
                    self._parent.mkdir(parents=True, exist_ok=True)
                base = Path(tempfile.mkdtemp(prefix="ws-", dir=self._parent))
                self._base = base
                await asyncio.to_thread(self._prepare, base)
                self._session = await LocalSession(self._spec, root=base / "repo", home=base / "home").start()
            return Path(self._session.workdir)

    def _prepare(self, base: Path) -> None:
        self._make(base / "repo")
        (base / "home").mkdir()
        exclude = base / "repo" / ".git" / "info" / "exclude"
        exclude.parent.mkdir(parents=True, exist_ok=True)
        with exclude.open("a", encoding="utf-8") as f:
            f.write("\n".join(EXCLUDES) + "\n")

    async def resolve(self, path: str) -> Path:
        """`path` (relative to the workspace, or absolute inside it) as a real path inside the workspace."""
        root = (await self.root()).resolve()
        target = (root / path).resolve()
        if not target.is_relative_to(root):
            raise WorkspaceError(f"path {path!r} is outside the workspace ({root}); give a path inside it")
        if target == root / ".git" or target.is_relative_to(root / ".git"):
            raise WorkspaceError(f"path {path!r} is in the workspace's .git folder, which tools do not touch")
        return target

    async def exec(self, command: str, timeout_s: float | None = None) -> ExecResult:
        await self.root()
        assert self._session is not None
        return await self._session.exec(command, timeout_s)

    async def diff(self) -> str:
        """Every change since the start, new files included (`git add -A`; `git diff --cached`); "" when the
        workspace was never made."""
        if not self.made:
            return ""
        root = await self.root()
        return await asyncio.to_thread(self._diff, root)

    @staticmethod
    def _diff(root: Path) -> str:
        _git(["add", "-A"], root)
        return _git(["diff", "--cached", "--no-color", "--no-ext-diff"], root)

    async def aclose(self) -> None:
        async with self._lock:
            self._closed = True
            session, self._session = self._session, None
            if session is not None:
                await session.aclose()
            if self._base is not None:
                await asyncio.to_thread(shutil.rmtree, self._base, True)

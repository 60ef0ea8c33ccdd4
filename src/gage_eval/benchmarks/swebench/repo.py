"""Repositories at a base commit: one read-only snapshot per (repo, commit), private copies per sample.

Sources, tried in order: a local mirror folder (`<mirror>/<owner>__<name>` as SWE-bench names its
checkouts, or `<mirror>/<owner>/<name>`, or `<mirror>/<name>`), then a git URL template (default
`https://github.com/{repo}.git`) cloned once into the cache. The snapshot is `git archive <commit>`
extracted under `<cache>/<owner>__<name>@<commit>`; it is shared read-only (retrieval reads it), and a
judge that applies patches works on `private_copy` (a copy with its own git repository), so concurrent
samples never touch each other's files.
"""
from __future__ import annotations

import asyncio
import io
import shutil
import subprocess
import tarfile
import uuid
from pathlib import Path

from gage_eval.errors import BackendError


class RepoError(BackendError):
    """A repository or commit that cannot be found: recorded on the instance, the run goes on."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


def _git(args: list[str], cwd: Path | None = None, timeout: float = 600.0) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=timeout)


class RepoCache:
    def __init__(self, cache_dir: Path, mirror: Path | None = None, url_template: str | None = None) -> None:
        self.cache_dir = Path(cache_dir)
        self.mirror = Path(mirror) if mirror else None
        self.url_template = url_template
        self._locks: dict[str, asyncio.Lock] = {}

    @classmethod
    def from_params(cls, cache_dir: str | None, run_dir: object, mirror: str | None,
                    url_template: str | None) -> RepoCache:
        """The context provider's and the judges' cache: `cache_dir`, else the run's `repos/`, else the user cache."""
        cache = Path(cache_dir) if cache_dir else (Path(str(run_dir)) / "repos" if run_dir else
                                                   Path.home() / ".cache" / "gage_eval" / "swebench")
        return cls(cache, Path(mirror) if mirror else None, url_template)

    def _source(self, repo: str) -> Path:
        owner, _, name = repo.partition("/")
        if self.mirror is not None:
            for candidate in (self.mirror / f"{owner}__{name}", self.mirror / owner / name, self.mirror / name):
                if (candidate / ".git").exists() or (candidate / "HEAD").exists():
                    return candidate
        clone = self.cache_dir / "git" / f"{owner}__{name}.git"
        if clone.exists():
            return clone
        if not self.url_template:
            where = f"under {self.mirror}" if self.mirror else "(no repo_mirror given)"
            raise RepoError(f"repository {repo} not found {where}; looked for {owner}__{name}, {owner}/{name} and "
                            f"{name}; give repo_mirror, or repo_url_template to clone it")
        url = self.url_template.format(repo=repo, owner=owner, name=name)
        clone.parent.mkdir(parents=True, exist_ok=True)
        proc = _git(["clone", "--bare", "--quiet", url, str(clone)])
        if proc.returncode != 0:
            shutil.rmtree(clone, ignore_errors=True)
            raise RepoError(f"cannot clone {repo} from {url}: {proc.stderr.decode(errors='replace').strip()[-300:]}")
        return clone

    def _snapshot_sync(self, repo: str, commit: str) -> Path:
        target = self.cache_dir / f"{repo.replace('/', '__')}@{commit}"
        if (target / ".gage_complete").exists():
            return target
        source = self._source(repo)
        proc = _git(["archive", "--format=tar", commit], cwd=source)
        if proc.returncode != 0:
            raise RepoError(f"commit {commit} of {repo} is not in {source}: "
                            f"{proc.stderr.decode(errors='replace').strip()[-300:]}")
        partial = target.with_name(f"{target.name}.partial-{uuid.uuid4().hex[:8]}")  # private to this extraction
        partial.mkdir(parents=True)
        with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
            tar.extractall(partial, filter="data")
        (partial / ".gage_complete").write_text(commit)
        try:
            partial.rename(target)  # complete or absent: a killed extraction never looks like a snapshot
        except OSError:  # another process finished the same snapshot first
            shutil.rmtree(partial, ignore_errors=True)
            if not (target / ".gage_complete").exists():
                raise
        return target

    async def snapshot(self, repo: str, commit: str) -> Path:
        """The read-only tree of `repo` at `commit` (made once; concurrent callers wait for the same one)."""
        lock = self._locks.setdefault(f"{repo}@{commit}", asyncio.Lock())
        async with lock:
            return await asyncio.to_thread(self._snapshot_sync, repo, commit)

    @staticmethod
    def private_copy(snapshot: Path, dest: Path) -> Path:
        """A writable copy of `snapshot` in `dest`, committed to a fresh git repository (so that `git apply`
        and `git diff` work as in a checkout)."""
        shutil.copytree(snapshot, dest, ignore=shutil.ignore_patterns(".gage_complete"))
        for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=gage", "-c", "user.email=gage@localhost",
                                                     "commit", "-q", "--no-verify", "-m", "base"]):
            proc = _git(args, cwd=dest)
            if proc.returncode != 0:
                raise RepoError(f"git {args[0]} failed in {dest}: {proc.stderr.decode(errors='replace')[-300:]}")
        return dest

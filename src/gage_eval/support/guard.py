"""Guard rails for writing generated files: inside the project only, and never over work that is not committed.

- A target outside the project (an absolute path, ``..``, a symlink leading out) is refused, always.
- In a git repository, uncommitted changes to tracked files make the tree dirty: the generated change could not
  be reviewed (or reverted) as one diff, so writing is refused unless --allow-dirty.
- A target that exists, is not tracked by git and holds something else than what support wrote last time
  (dev_docs/<slug>/implement.json keeps the hashes) would be lost: refused unless --allow-dirty.
Untracked files elsewhere (the dataset you just added, dev_docs/) do not make the tree dirty.
"""
from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path, PurePosixPath

from gage_eval.errors import ConfigError


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def resolve_target(root: Path, rel: str) -> Path:
    """The absolute path of a project-relative target; outside the project -> ConfigError (nothing is written)."""
    pure = PurePosixPath(rel)
    target = (root / rel).resolve()  # follows symlinks of existing parents
    if pure.is_absolute() or ".." in pure.parts or (target != root and root not in target.parents):
        raise ConfigError(f"refusing to write '{rel}': it is outside the project {root}", path=rel,
                          fix="generated files go inside the project folder (--project-dir); nothing was written")
    return target


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None  # no git: nothing to protect beyond the hashes


def in_git_repo(root: Path) -> bool:
    proc = _git(root, "rev-parse", "--is-inside-work-tree")
    return proc is not None and proc.returncode == 0 and proc.stdout.strip() == "true"


def write_problems(root: Path, targets: dict[str, str], last_written: dict[str, str]) -> list[str]:
    """Why writing `targets` ({rel path: new text}) would lose work; empty when it is safe."""
    problems: list[str] = []
    tracked: set[str] = set()
    if in_git_repo(root):
        status = _git(root, "status", "--porcelain", "--untracked-files=no", "--", ".")
        changed = [line[3:] for line in (status.stdout.splitlines() if status else []) if line.strip()]
        if changed:
            shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
            problems.append(f"the git tree is dirty (uncommitted changes to {shown})")
        listed = _git(root, "ls-files", "--", *targets)
        tracked = set(listed.stdout.splitlines()) if listed and listed.returncode == 0 else set()
    for rel, text in targets.items():
        path = root / rel
        if rel in tracked or not path.is_file():
            continue
        current = path.read_text(encoding="utf-8", errors="replace")
        if current != text and sha256(current) != last_written.get(rel):
            problems.append(f"{rel} exists, is not committed and was not written by gage support (or was edited "
                            "since): overwriting it would lose it")
    return problems

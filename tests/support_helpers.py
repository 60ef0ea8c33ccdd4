"""Shared by the `gage support` tests: a git project with the fixture datasets, and `gage` as a real process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support_fixtures import write_fixtures

GIT = ["git", "-c", "user.email=test@example.com", "-c", "user.name=test", "-c", "commit.gpgsign=false"]


def make_project(root: Path) -> dict[str, Path]:
    """A git repository holding data/*.jsonl (committed), as a user's project would."""
    root.mkdir(parents=True, exist_ok=True)
    data = write_fixtures(root)
    subprocess.run([*GIT, "init", "-q", str(root)], check=True)
    subprocess.run([*GIT, "-C", str(root), "add", "data"], check=True)
    subprocess.run([*GIT, "-C", str(root), "commit", "-qm", "data"], check=True)
    return data


def commit_all(root: Path) -> None:
    subprocess.run([*GIT, "-C", str(root), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(root), "commit", "-qm", "generated"], check=True)


def gage(root: Path, *args: str, env: dict[str, str] | None = None, timeout: int = 240
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gage_eval", *args], cwd=root, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "COLUMNS": "200", **(env or {})})


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc.stdout


def last_user(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else "".join(p.get("text", "") for p in content or [])
    return str(body.get("prompt", ""))


def summary(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "summary.json").read_text())


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the project except .git: to prove that a refused command wrote nothing."""
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and ".git" not in p.relative_to(root).parts}


def eval_in_project(root: Path, slug: str, base_url: str, monkeypatch: Any, **extra: Any) -> dict[str, Any]:
    """`gage eval --model test-model --api-url URL --datasets SLUG` run in this process from the project folder
    (its benchmarks are found there, as the CLI finds them); returns summary.json."""
    import gage_eval
    from gage_eval.registry import registry

    monkeypatch.chdir(root)
    registry.load_project(root)  # discovery may have happened earlier in this process, from another folder
    result = gage_eval.run_task({"model": "test-model", "api_url": base_url, "datasets": [slug],
                                 "work_dir": str(root / "runs"), "run_id": "eval", **extra}, progress="off")
    return result.summary

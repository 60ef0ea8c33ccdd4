"""Synthetic SWE-bench instances: three tiny Python repositories with a git history, each with a bug, a gold
patch, a test patch, FAIL_TO_PASS and PASS_TO_PASS, in SWE-bench's record format (lists as JSON text, as on
the hub)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

REPOS: dict[str, dict[str, Any]] = {
    "acme/calc": {
        "files": {"calc/__init__.py": "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n",
                  "calc/format.py": "def show(x):\n    return f'value={x}'\n",
                  "README.md": "# calc\nA tiny calculator.\n",
                  "tests/test_calc.py": "from calc import sub\n\n\ndef test_sub():\n    assert sub(5, 3) == 2\n"},
        "fix": {"calc/__init__.py": "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"},
        "tests": {"tests/test_calc.py": "from calc import add, sub\n\n\ndef test_sub():\n    assert sub(5, 3) == 2\n"
                                        "\n\ndef test_add():\n    assert add(2, 3) == 5\n"},
        "f2p": ["tests/test_calc.py::test_add"], "p2p": ["tests/test_calc.py::test_sub"],
        "issue": "add() returns the difference of its arguments instead of their sum: add(2, 3) gives the value -1.",
        # a patch that fixes add but breaks sub (a PASS_TO_PASS test)
        "breaking": {"calc/__init__.py": "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a + b\n"},
    },
    "acme/strutil": {
        "files": {"strutil/core.py": "def shout(s):\n    return s.upper()\n\n\ndef whisper(s):\n    return s.upper()\n",
                  "strutil/__init__.py": "from strutil.core import shout, whisper\n",
                  "strutil/pad.py": "def pad(s, n):\n    return s.ljust(n)\n",
                  "README.rst": "strutil\n=======\n",
                  "tests/test_core.py": "from strutil import shout\n\n\ndef test_shout():\n    assert shout('a') == 'A'\n"},
        "fix": {"strutil/core.py": "def shout(s):\n    return s.upper()\n\n\ndef whisper(s):\n    return s.lower()\n"},
        "tests": {"tests/test_core.py": "from strutil import shout, whisper\n\n\ndef test_shout():\n    assert shout('a') == "
                                        "'A'\n\n\ndef test_whisper():\n    assert whisper('A') == 'a'\n"},
        "f2p": ["tests/test_core.py::test_whisper"], "p2p": ["tests/test_core.py::test_shout"],
        "issue": "whisper() should return the lowercase string but returns it uppercase.",
        "breaking": {"strutil/core.py": "def shout(s):\n    return s.lower()\n\n\ndef whisper(s):\n    return s.lower()\n"},
    },
    "acme/mathx": {
        "files": {"mathx/stats.py": "def mean(xs):\n    return sum(xs) / (len(xs) + 1)\n\n\ndef total(xs):\n    return sum(xs)\n",
                  "mathx/__init__.py": "",
                  "tests/test_stats.py": "from mathx.stats import total\n\n\ndef test_total():\n    assert total([1, 2]) == 3\n"},
        "fix": {"mathx/stats.py": "def mean(xs):\n    return sum(xs) / len(xs)\n\n\ndef total(xs):\n    return sum(xs)\n"},
        "tests": {"tests/test_stats.py": "from mathx.stats import mean, total\n\n\ndef test_total():\n    assert total([1, 2]) "
                                         "== 3\n\n\ndef test_mean():\n    assert mean([1, 2, 3]) == 2\n"},
        "f2p": ["tests/test_stats.py::test_mean"], "p2p": ["tests/test_stats.py::test_total"],
        "issue": "mean() of [1, 2, 3] is 1.5, the mean divides by one element too many.",
        "breaking": {"mathx/stats.py": "def mean(xs):\n    return sum(xs) / len(xs)\n\n\ndef total(xs):\n    return 0\n"},
    },
}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout


def diff_for(repo: Path, changes: dict[str, str]) -> str:
    originals = {name: (repo / name).read_text() for name in changes}
    for name, text in changes.items():
        (repo / name).write_text(text)
    patch = git(repo, "diff")
    for name, text in originals.items():
        (repo / name).write_text(text)
    return patch


def build(root: Path) -> tuple[Path, list[dict[str, Any]], dict[str, str]]:
    """(mirror folder, records, breaking patches by instance id)."""
    mirror = root / "mirror"
    records, breaking = [], {}
    for n, (name, spec) in enumerate(REPOS.items(), 1):
        repo = mirror / name.replace("/", "__")
        repo.mkdir(parents=True)
        git(repo, "init", "-q")
        for path, text in spec["files"].items():
            (repo / path).parent.mkdir(parents=True, exist_ok=True)
            (repo / path).write_text(text)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "initial")
        (repo / "CHANGES").write_text("later history the instance must not see\n")
        base = git(repo, "rev-parse", "HEAD").strip()
        patch, test_patch = diff_for(repo, spec["fix"]), diff_for(repo, spec["tests"])
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "after the base commit")
        iid = f"{name.replace('/', '__')}-{n}"
        records.append({"instance_id": iid, "repo": name, "base_commit": base, "problem_statement": spec["issue"],
                        "patch": patch, "test_patch": test_patch, "FAIL_TO_PASS": json.dumps(spec["f2p"]),
                        "PASS_TO_PASS": json.dumps(spec["p2p"]), "version": "0.1", "created_at": "2024-01-01",
                        "hints_text": "", "environment_setup_commit": base})
        breaking[iid] = diff_for_commit(repo, base, spec["breaking"])
    return mirror, records, breaking


def diff_for_commit(repo: Path, base: str, changes: dict[str, str]) -> str:
    git(repo, "checkout", "-q", base)
    try:
        return diff_for(repo, changes)
    finally:
        git(repo, "checkout", "-q", "-")


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path

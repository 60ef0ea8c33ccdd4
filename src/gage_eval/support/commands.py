"""The design block's tests.commands, run after implement writes: only gage, python and pytest, in the project.

A command is split like a shell line but never run through a shell; `gage` and `pytest` run in this Python
(the same install the benchmark was generated for). Anything else is refused before it runs.
"""
from __future__ import annotations

import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gage_eval.errors import ConfigError

TIMEOUT_S = 900
_SHELL = set(";|&`$<>")


@dataclass
class CommandResult:
    command: str
    code: int
    seconds: float
    tail: str

    @property
    def ok(self) -> bool:
        return self.code == 0

    def as_dict(self) -> dict[str, object]:
        return {"command": self.command, "exit_code": self.code, "seconds": round(self.seconds, 2), "tail": self.tail}


def argv_of(command: str, root: Path) -> list[str]:
    """The argv a tests command runs as; ConfigError for anything but gage / python / pytest inside the project."""
    try:
        parts = shlex.split(command)
    except ValueError as exc:
        raise ConfigError(f"tests.commands: cannot split {command!r}: {exc}", path="support_config.tests.commands",
                          fix="quote arguments properly") from None
    if not parts or any(ch in command for ch in _SHELL):
        raise ConfigError(f"tests.commands: {command!r} is empty or uses shell syntax", path="support_config.tests."
                          "commands", fix="one plain command per entry (no pipes, redirections or variables)")
    head, rest = parts[0], parts[1:]
    if head == "gage":
        return [sys.executable, "-m", "gage_eval", *rest]
    if head == "pytest":
        return [sys.executable, "-m", "pytest", *rest]
    if head in ("python", "python3"):
        if rest[:2] == ["-m", "pytest"]:
            return [sys.executable, *rest]
        if rest and rest[0].endswith(".py"):
            script = (root / rest[0]).resolve()
            if root not in script.parents:
                raise ConfigError(f"tests.commands: {rest[0]} is outside the project", path="support_config.tests."
                                  "commands", fix="run scripts of the project only")
            return [sys.executable, *rest]
    raise ConfigError(f"tests.commands: {command!r} is not a gage, pytest or `python <project script>` command",
                      path="support_config.tests.commands", fix="keep to gage, pytest and python tests/... commands")


def run_commands(root: Path, commands: list[str],
                 on_result: Callable[[CommandResult], None] | None = None) -> list[CommandResult]:
    argvs = [argv_of(c, root) for c in commands]  # every command is checked before any runs
    results = []
    for command, argv in zip(commands, argvs):
        start = time.monotonic()
        try:
            proc = subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=TIMEOUT_S)
            code, output = proc.returncode, (proc.stdout + proc.stderr).strip()
        except subprocess.TimeoutExpired:
            code, output = 124, f"timed out after {TIMEOUT_S} s"
        result = CommandResult(command, code, time.monotonic() - start, "\n".join(output.splitlines()[-12:]))
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results

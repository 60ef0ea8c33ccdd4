"""The README opens with the two commands; CI runs exactly the README's test command."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return [next(line for line in b.splitlines() if line and not line.startswith("#")) for b in blocks[:2]]


def test_readme_opens_with_demo_and_test_commands() -> None:
    demo, tests = _readme_commands()
    assert "gage run config/run_configs/demo_echo_run_1.yaml" in demo and "pip install" in demo
    assert "pytest" in tests and "pip install" in tests


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert _readme_commands()[1] in ci_lines

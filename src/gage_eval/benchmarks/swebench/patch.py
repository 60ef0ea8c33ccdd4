"""Patches from model output: extraction, normalisation and the `git apply --check` gate.

Models answer in several shapes: a ```diff / ```patch fence, SWE-bench's own `<patch>…</patch>` tags, or a
bare diff after some prose. The first of those found wins; the text is then normalised (CRLF → LF, a final
newline — `git apply` rejects a last hunk line without one) so that an answer that would apply after a
trivial fix is not scored as "did not apply".
"""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

_FENCE = re.compile(r"```(?:diff|patch)?[ \t]*\n(.*?)```", re.S)
_TAGS = re.compile(r"<patch>\s*\n?(.*?)</patch>", re.S)
_DIFF_START = re.compile(r"^(diff --git |--- (?:a/|/dev/null))", re.M)


def _looks_like_diff(text: str) -> bool:
    return bool(re.search(r"^--- ", text, re.M) and re.search(r"^\+\+\+ ", text, re.M)
                and re.search(r"^@@ ", text, re.M))


def extract_patch(text: str | None) -> str:
    """The diff in a model's answer ("" when there is none); normalised (see `normalise_patch`)."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for pattern in (_TAGS, _FENCE):
        for match in pattern.finditer(text):
            if _looks_like_diff(match.group(1)):
                return normalise_patch(match.group(1))
    start = _DIFF_START.search(text)
    if start and _looks_like_diff(text[start.start():]):
        return normalise_patch(text[start.start():])
    return ""


def normalise_patch(patch: str) -> str:
    patch = patch.replace("\r\n", "\n").replace("\r", "\n")
    lines = patch.split("\n")
    while lines and not lines[-1].strip():  # trailing blank lines are not hunk content
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines) + "\n" if lines else ""


@dataclass
class ApplyResult:
    ok: bool
    output: str


def git_apply(repo_dir: Path, patch: str, *, check: bool = False, timeout_s: float = 60.0) -> ApplyResult:
    """`git apply [--check]` of `patch` in `repo_dir` (a git repository or a plain folder). The patch is given
    on stdin; `--recount` tolerates hunk headers whose line counts a model got wrong, as many harnesses do."""
    if not patch.strip():
        return ApplyResult(False, "empty patch")
    cmd = ["git", "apply", "--recount", "--whitespace=nowarn", "-v"] + (["--check"] if check else []) + ["-"]
    try:
        proc = subprocess.run(cmd, cwd=repo_dir, input=patch, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return ApplyResult(False, f"git apply timed out after {timeout_s:g} s")
    return ApplyResult(proc.returncode == 0, (proc.stdout + proc.stderr).strip())


def patched_files(patch: str) -> list[str]:
    """Files a diff changes (the `a/` side; new files by their `b/` path), in order, without duplicates."""
    import unidiff

    out: list[str] = []
    for f in unidiff.PatchSet(patch):
        name = f.source_file if f.source_file != "/dev/null" else f.target_file
        name = name.split("/", 1)[1] if name.startswith(("a/", "b/")) else name
        if name not in out:
            out.append(name)
    return out

"""Tools of a SWE-bench agent (registry kind `tools`): a shell, a file viewer and str_replace-style editing, all
working in the sample's workspace — the repository at the base commit, copied on first use (agents/workspace.py).

They follow the tools of SWE-agent / mini-SWE-agent: `swe_bash` runs one command line; `swe_view` shows a file
with line numbers (or a folder's listing); `swe_edit` replaces a text that must occur exactly once (a missing or
ambiguous match is refused, the file left alone); `swe_create` writes a new file. A path outside the workspace is
refused; every refusal is an error observation the agent can read, recorded in the trajectory.
"""
from __future__ import annotations

from typing import Annotated

from pydantic import Field

from gage_eval.agents.workspace import Workspace, WorkspaceError
from gage_eval.registry import registry

BASH_OUTPUT_CHARS = 10_000
VIEW_LINES = 400


def cut_middle(text: str, limit: int = BASH_OUTPUT_CHARS) -> str:
    """`text` within `limit` characters: its head and tail (a test run's summary is at the end), with a note
    saying how much of the middle was left out."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return (f"{text[:half]}\n[output cut: {len(text) - 2 * half} of {len(text)} characters not shown]\n"
            f"{text[-half:]}")


@registry.asset("tools", "swe_bash", desc="run a shell command at the repository root: its output and exit code "
                "(long output cut in the middle)", tags=("swebench", "agent"))
async def swe_bash(command: Annotated[str, Field(description="a /bin/sh command line, run at the repository root")],
                   workspace: Workspace,
                   timeout_s: Annotated[int, Field(ge=1, le=600, description="seconds before it is killed")] = 60
                   ) -> str:
    """Run a shell command at the repository root (e.g. grep, ls, python -m pytest) and return its output and
    exit code. Each call starts afresh at the root; long output is cut in the middle."""
    return cut_middle((await workspace.exec(command, timeout_s)).text())


@registry.asset("tools", "swe_view", desc="show a repository file with line numbers (400 lines from start_line), "
                "or list a folder", tags=("swebench", "agent"))
async def swe_view(path: Annotated[str, Field(description="path relative to the repository root")],
                   workspace: Workspace,
                   start_line: Annotated[int, Field(ge=1, description="first line to show")] = 1,
                   end_line: Annotated[int | None, Field(ge=1, description="last line to show (default: "
                                                         f"{VIEW_LINES} lines from start_line)")] = None) -> str:
    """Show a file of the repository with line numbers, or the entries of a folder."""
    target = await workspace.resolve(path)
    if target.is_dir():
        entries = sorted(p.name + ("/" if p.is_dir() else "") for p in target.iterdir() if p.name != ".git")
        return "\n".join(entries) or "(empty folder)"
    if not target.is_file():
        raise WorkspaceError(f"no file {path!r} in the repository")
    lines = target.read_text(encoding="utf-8", errors="replace").split("\n")
    last = min(len(lines), end_line if end_line is not None else start_line + VIEW_LINES - 1)
    shown = [f"{n:6}\t{lines[n - 1]}" for n in range(start_line, last + 1)]
    more = f"\n[lines {last + 1}-{len(lines)} not shown]" if last < len(lines) else ""
    return "\n".join(shown) + more if shown else f"(the file has {len(lines)} lines)"


@registry.asset("tools", "swe_edit", desc="replace old_str, which must occur exactly once in the file, by new_str",
                tags=("swebench", "agent"))
async def swe_edit(path: Annotated[str, Field(description="path relative to the repository root")],
                   old_str: Annotated[str, Field(description="the exact text to replace; it must occur exactly "
                                                 "once (include surrounding lines to make it unique)")],
                   new_str: Annotated[str, Field(description="the text to put in its place")],
                   workspace: Workspace) -> str:
    """Replace `old_str`, which must occur exactly once in the file, by `new_str`."""
    target = await workspace.resolve(path)
    if not target.is_file():
        raise WorkspaceError(f"no file {path!r} in the repository; use swe_create for a new file")
    text = target.read_text(encoding="utf-8")
    count = text.count(old_str) if old_str else 0
    if count == 0:
        raise WorkspaceError(f"old_str does not occur in {path}; nothing was changed (view the file and copy the "
                             "text exactly, whitespace included)")
    if count > 1:
        raise WorkspaceError(f"old_str occurs {count} times in {path}; nothing was changed (include more "
                             "surrounding lines so that it occurs once)")
    start = text.index(old_str)
    target.write_text(text.replace(old_str, new_str, 1), encoding="utf-8")
    first = text.count("\n", 0, start) + 1
    last = first + old_str.count("\n")
    return f"edited {path}: lines {first}-{last} replaced by {new_str.count(chr(10)) + 1} lines"


@registry.asset("tools", "swe_create", desc="create a new file in the repository (an existing file is refused)",
                tags=("swebench", "agent"))
async def swe_create(path: Annotated[str, Field(description="path relative to the repository root")],
                     content: Annotated[str, Field(description="the whole file")], workspace: Workspace) -> str:
    """Create a new file (its folders too); an existing file is refused (edit it with swe_edit)."""
    target = await workspace.resolve(path)
    if target.exists():
        raise WorkspaceError(f"{path} exists; change it with swe_edit")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content, encoding="utf-8")
    return f"created {path} ({len(content.splitlines())} lines)"

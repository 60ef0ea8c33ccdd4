"""The end of a run's terminal output when anything failed: a table of failure classes and the run's error.

Plain aligned text on stderr: it survives `> results.txt` on stdout, narrow terminals and log scrapers.
"""
from __future__ import annotations

from typing import Any

import typer

_MESSAGE_WIDTH = 160


def failure_rows(summary: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(reason class, count, first message) per failure class; a run stopped before its samples (pre-flight)
    shows its own reason with `run` as the count."""
    rows = [(str(c.get("reason")), str(c.get("count")), str(c.get("first_message") or ""))
            for c in (summary.get("failures") or {}).get("classes") or []]
    error = (summary.get("run") or {}).get("error") or {}
    if not rows and error.get("reason"):
        rows.append((str(error["reason"]), "run", str(error.get("message") or "")))
    return rows


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_WIDTH else text[: _MESSAGE_WIDTH - 1] + "…"


def print_failures(summary: dict[str, Any]) -> None:
    run = summary.get("run") or {}
    for warning in run.get("preflight_warnings") or []:
        typer.secho(f"warning: pre-flight: {warning}", fg=typer.colors.YELLOW, err=True)
    rows = failure_rows(summary)
    failed, total = (summary.get("failures") or {}).get("total") or 0, summary.get("sample_count") or 0
    if rows:
        head = f"failures: {failed} of {total} samples failed" if failed else \
            "failures: the run stopped before any sample was sent"
        typer.secho(head, fg=typer.colors.RED, err=True)
        cols = ("reason", "count", "first message")
        widths = [max(len(r[i]) for r in [cols, *rows]) for i in range(2)]
        for reason, count, message in [cols, *rows]:
            typer.echo(f"  {reason:<{widths[0]}}  {count:>{widths[1]}}  {_clip(message)}", err=True)
    error = run.get("error")
    if error:
        color = typer.colors.RED if run.get("status") == "failed" else typer.colors.YELLOW
        told = failed == 0 and bool(rows)  # the table's one row is this error: do not repeat its message
        detail = "" if told else f": {_clip(str(error.get('message')))}"
        typer.secho(f"run {run.get('status')}: {error.get('type')}{detail}", fg=color, err=True)
        if error.get("fix"):
            typer.echo(f"  fix: {error['fix']}", err=True)

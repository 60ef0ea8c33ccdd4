"""`gage report`, `gage compare`, `gage view`."""
from __future__ import annotations

from pathlib import Path

import typer

from gage_eval.errors import GageError


def _run_dir(path: Path) -> Path:
    if not path.is_dir() or not any((path / f).exists() for f in ("samples.jsonl", "summary.json")):
        raise GageError(f"{path} is not a run directory", path="RUN_DIR",
                        fix="pass runs/<run_id> (a folder holding samples.jsonl / summary.json)")
    return path


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report(run_dir: Path = typer.Argument(..., help="runs/<run_id>")) -> None:
        """Regenerate report.html (and results.md) from a run's artifacts."""
        from gage_eval.report.results_table import write_results_markdown
        from gage_eval.report.standalone import write_report

        typer.echo(f"wrote {write_report(_run_dir(run_dir))}")
        if (run_dir / "summary.json").exists():
            typer.echo(f"wrote {write_results_markdown(run_dir)}")

    @app.command("compare")
    def compare(run_a: Path = typer.Argument(...), run_b: Path = typer.Argument(...)) -> None:
        """Compare two runs of the same tasks: differences and paired significance."""
        from rich.console import Console
        from rich.table import Table

        from gage_eval.report.compare import compare_runs
        from gage_eval.report.results_table import metric_label

        comps = compare_runs(_run_dir(run_a), _run_dir(run_b))
        if not comps:
            raise GageError("the runs share no scored samples of the same task and metric", path="RUN_B",
                            fix="compare runs of the same tasks (same task_id and sample ids)")
        table = Table(title=f"{run_a.name} → {run_b.name}")
        for col in ("task", "metric", run_a.name, run_b.name, "diff", "paired n", "p", "significant", "test"):
            table.add_column(col)

        def f(x: float | None) -> str:
            return "-" if x is None else f"{x:.4f}"

        for c in comps:
            table.add_row(c.task_id, metric_label(c.metric), f(c.value_a), f(c.value_b), f(c.diff), str(c.n_paired), f(c.p_value),
                          "yes" if c.significant else "no", c.test)
        Console(width=160).print(table)

    @app.command("view")
    def view(runs_dir: Path = typer.Argument(Path("runs"), help="directory of runs"),
             port: int = typer.Option(8765, "--port")) -> None:
        """Browse, compare and follow runs in a local web app."""
        import uvicorn

        from gage_eval.view.app import create_app

        if not runs_dir.is_dir():
            raise GageError(f"{runs_dir} is not a directory", path="RUNS_DIR", fix="pass the --output-dir of your runs")
        # Loopback only: run artifacts hold prompts and model outputs that are not for the network.
        typer.echo(f"gage view: http://127.0.0.1:{port}/  (Ctrl-C to stop)")
        uvicorn.run(create_app(runs_dir), host="127.0.0.1", port=port, log_level="warning")

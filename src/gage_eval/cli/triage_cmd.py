"""`gage triage RUN_DIR`: a run's failed and wrong samples by cause, and the command that reruns them."""
from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import typer

from gage_eval.errors import GageError
from gage_eval.report.triage import Triage, TriageGroup


def scan_run(run_dir: Path) -> tuple[Triage, dict[str, Any], dict[str, Any]]:
    """The triage of a run directory, its summary.json and run_meta.json (empty dicts when missing)."""
    from gage_eval.report.samples import SampleScanner

    if not (run_dir / "samples.jsonl").is_file():
        raise GageError(f"{run_dir} has no samples.jsonl", path="RUN_DIR",
                        fix="pass runs/<run_id>, the folder a run wrote")
    scan = SampleScanner(run_dir / "samples.jsonl", max_rows=0)
    scan.poll()

    def load(name: str) -> dict[str, Any]:
        try:
            data = json.loads((run_dir / name).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return {}
        return data if isinstance(data, dict) else {}

    return scan.triage, load("summary.json"), load("run_meta.json")


def write_lists(run_dir: Path, triage: Triage) -> dict[str, Path]:
    """RUN_DIR/triage/<group>.jsonl per group, failed.jsonl (every failed sample) and triage.json."""
    folder = run_dir / "triage"
    folder.mkdir(exist_ok=True)
    source = str(run_dir.resolve())  # absolute: the list may be used from anywhere

    def dump(path: Path, samples: list[tuple[str, str]]) -> Path:
        path.write_text("".join(json.dumps({"task_id": t, "sample_id": s, "source_run": source}) + "\n"
                                for t, s in samples), encoding="utf-8")
        return path

    files = {g.slug: dump(folder / f"{g.slug}.jsonl", g.samples) for g in triage.ordered()}
    failed = [s for g in triage.ordered() if g.kind == "failed" for s in g.samples]
    if failed:
        files["failed"] = dump(folder / "failed.jsonl", failed)
    (folder / "triage.json").write_text(json.dumps(triage.as_dict(), indent=2) + "\n", encoding="utf-8")
    return files


def rerun_command(run_dir: Path, ids_file: Path, meta: dict[str, Any]) -> str:
    """`gage run <run>/config.json --only-samples FILE --output-dir <runs> --run-id <id>-rerun[N]`, from the
    directory the run was started in (its relative dataset paths resolve from there)."""
    origin = Path(meta.get("cwd") or Path.cwd())

    def shown(path: Path) -> str:
        try:
            return str(path.resolve().relative_to(origin.resolve()))
        except ValueError:
            return str(path.resolve())

    runs = run_dir.resolve().parent
    run_id = f"{run_dir.name}-rerun"
    n = 2
    while (runs / run_id).exists():
        run_id, n = f"{run_dir.name}-rerun{n}", n + 1
    argv = ["gage", "run", shown(run_dir / "config.json"), "--only-samples", shown(ids_file), "--output-dir",
            shown(runs), "--run-id", run_id]
    prefix = "" if origin.resolve() == Path.cwd().resolve() else f"cd {shlex.quote(str(origin))} && "
    return prefix + shlex.join(argv)


def _print_group(group: TriageGroup) -> None:
    typer.echo(f"  {group.cause:<28} {group.count:>6}" + (f"   fix: {group.fix}" if group.fix else ""))
    for ex in group.examples:
        typer.echo(f"      {ex['task_id']}/{ex['sample_id']}: {ex['text']}")


def register(app: typer.Typer) -> None:
    @app.command("triage")
    def triage_cmd(
        run_dir: Path = typer.Argument(..., help="runs/<run_id>"),
        as_json: bool = typer.Option(False, "--json", help="print the grouping as JSON"),
    ) -> None:
        """Group a run's failed and wrong samples by cause (counts, two examples each) and print the command that
        reruns them (`gage run ... --only-samples FILE`). Writes the lists to RUN_DIR/triage/."""
        triage, summary, meta = scan_run(run_dir)
        files = write_lists(run_dir, triage)
        if as_json:
            typer.echo(json.dumps({**triage.as_dict(), "files": {k: str(v) for k, v in files.items()}}, indent=2))
            return
        expected = (summary.get("failures") or {}).get("total")
        status = (summary.get("run") or {}).get("status", "no summary.json (in progress or killed)")
        typer.echo(f"run {run_dir.name}: {status}, {triage.seen} samples, {triage.failed} failed, "
                   f"{triage.wrong} wrong or unscored")
        if expected is not None and expected != triage.failed:
            typer.secho(f"note: summary.json counts {expected} failed samples and samples.jsonl {triage.failed} "
                        "(the run was resumed or is still going)", fg=typer.colors.YELLOW, err=True)
        for kind in ("failed", "wrong"):
            groups = [g for g in triage.ordered() if g.kind == kind]
            if groups:
                typer.echo(f"{kind} ({sum(g.count for g in groups)}), by cause:")
                for group in groups:
                    _print_group(group)
        if not triage.groups:
            typer.echo("nothing to triage: every sample finished and was right")
            return
        if "failed" in files:
            typer.echo(f"rerun the {triage.failed} failed samples into a new run linked to this one:\n"
                       f"  {rerun_command(run_dir, files['failed'], meta)}")
        typer.echo(f"one group's list: {run_dir / 'triage'}/<kind>-<cause>.jsonl (e.g. "
                   f"{next(iter(files.values())).name}) works with --only-samples as well")

"""`gage list [KIND]` and `gage manifest`."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
import yaml
from rich.console import Console
from rich.table import Table

from gage_eval.config.templates import available_templates
from gage_eval.registry import registry


def benchmark_table() -> Table:
    """Builtin benchmarks: name, versions, dataset source and description (from each latest template)."""
    from gage_eval.config.templates import is_benchmark_template

    table = Table(show_lines=False)
    for col in ("benchmark", "versions", "dataset", "description"):
        table.add_column(col)
    for name, versions in sorted(available_templates().items()):
        latest = versions[max(versions)]
        if not is_benchmark_template(latest):
            continue
        doc = yaml.safe_load(latest.read_text(encoding="utf-8")) or {}
        definition = doc.get("definition") or {}
        ds = (definition.get("datasets") or [{}])[0]
        hub = ds.get("hub_params") or {}
        source = "/".join(str(x) for x in (hub.get("hub_id"), hub.get("subset")) if x)
        source += f" [{hub['split']}]" if hub.get("split") else ""
        description = str((definition.get("metadata") or {}).get("description", ""))
        table.add_row(name, ", ".join(f"v{v}" for v in sorted(versions)), source, description[:90])
    return table


def register(app: typer.Typer) -> None:
    @app.command("list")
    def list_assets(kind: Optional[str] = typer.Argument(None, help="registry kind, 'templates' or 'benchmarks'")
                    ) -> None:
        """List registered assets (backends, metrics, roles, ...), builtin templates and benchmarks."""
        if kind == "benchmarks":
            Console().print(benchmark_table())
            return
        table = Table(show_lines=False)
        for col in ("kind", "name", "description"):
            table.add_column(col)
        if kind in (None, "templates"):
            for name, versions in sorted(available_templates().items()):
                table.add_row("templates", name, "versions: " + ", ".join(f"v{v}" for v in sorted(versions)))
        if kind != "templates":
            for entry in registry.entries(kind):
                table.add_row(entry.kind, entry.name, entry.desc)
        Console().print(table)

    @app.command("manifest")
    def manifest(out: Optional[Path] = typer.Option(None, "--out", help="write YAML here instead of stdout")) -> None:
        """Write the registry manifest (every asset with kind, description, tags and module)."""
        text = yaml.safe_dump(registry.manifest(), sort_keys=False)
        if out:
            out.write_text(text, encoding="utf-8")
            typer.echo(f"wrote {out}")
        else:
            typer.echo(text)

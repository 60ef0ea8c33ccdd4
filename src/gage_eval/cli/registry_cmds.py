"""`gage list [KIND]` and `gage manifest`."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
import yaml

from gage_eval.config.templates import available_templates
from gage_eval.registry import registry


def benchmark_table() -> Any:
    """Builtin benchmarks and the project's own (./gage_benchmarks): name, versions, dataset source, scoring
    (from each latest template)."""
    from rich.table import Table  # rich only for the commands that print tables, not every `gage` start

    from gage_eval.config.metric_forms import normalize_metric_entry
    from gage_eval.config.templates import is_benchmark_template, is_project_template

    table = Table(show_lines=False, expand=False)
    for col in ("benchmark", "versions", "dataset (split)", "scoring"):
        table.add_column(col, overflow="fold")
    for name, versions in sorted(available_templates().items()):
        latest = versions[max(versions)]
        project = is_project_template(latest)
        if not (project or is_benchmark_template(latest)):
            continue
        doc = yaml.safe_load(latest.read_text(encoding="utf-8")) or {}
        definition = doc.get("definition") or {}
        ds = (definition.get("datasets") or [{}])[0]
        hub = ds.get("hub_params") or {}
        source = str(hub.get("hub_id") or ds.get("params", {}).get("path") or "")
        source += f" ({hub['split']})" if hub.get("split") else ""
        duts = [a for a in definition.get("role_adapters") or [] if a.get("role_type") == "dut_model"]
        mode = "loglikelihood" if duts and (duts[0].get("params") or {}).get("mode") == "loglikelihood" else "generate"
        judged = any("judge" in a.get("role_type", "") for a in definition.get("role_adapters") or [])
        metrics = ", ".join(dict.fromkeys(normalize_metric_entry(m).get("implementation", "?")
                                          for m in definition.get("metrics", [])))
        table.add_row(name + (" (project)" if project else ""), ", ".join(f"v{v}" for v in sorted(versions)), source,
                      f"{mode}{' + judge' if judged else ''}: {metrics}")
    return table


def _capabilities(obj: object) -> str:
    """A backend type's declared capabilities (those of its default settings where they vary)."""
    from gage_eval.backends.base import CAPABILITIES, Backend

    if not (isinstance(obj, type) and issubclass(obj, Backend)):
        return ""
    return " — capabilities: " + ", ".join(c for c in CAPABILITIES if c in obj.capabilities)


def register(app: typer.Typer) -> None:
    @app.command("list")
    def list_assets(kind: Optional[str] = typer.Argument(None, help="registry kind, 'templates' or 'benchmarks'")
                    ) -> None:
        """List registered assets (backends, metrics, roles, ...), builtin templates and benchmarks."""
        from rich.console import Console
        from rich.table import Table

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
                table.add_row(entry.kind, entry.name, entry.desc + _capabilities(entry.obj))
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

"""Reporting sinks selectable from `tasks[].reporting.sinks[].type`."""
from __future__ import annotations

from typing import Any

from gage_eval.registry import registry


@registry.asset("reporting_sinks", "console", desc="print the task's metrics when it ends", tags=("report",))
class ConsoleSink:
    def __init__(self, **_: Any) -> None:
        pass

    def task_end(self, task_id: str, metrics: dict[str, Any]) -> None:
        from rich.console import Console
        from rich.table import Table

        from gage_eval.report.results_table import metric_label

        table = Table(title=f"task {task_id}")
        for col in ("metric", "value", "stderr", "n"):
            table.add_column(col)
        for name, agg in metrics.items():
            value, err = agg.get("value"), agg.get("stderr")
            table.add_row(metric_label(name), "-" if value is None else f"{value:.4f}", "-" if err is None else f"{err:.4f}",
                          str(agg.get("count", 0)))
        Console(stderr=True).print(table)

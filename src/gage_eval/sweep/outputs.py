"""The sweep's top-level files: leaderboard.csv / leaderboard.md and the score-vs-step plot (PNG and HTML)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from gage_eval.sweep import leaderboard, plot, plot_png
from gage_eval.sweep.benchmarks import SweepBenchmark
from gage_eval.sweep.models import SweepModel
from gage_eval.sweep.results import best_vs_last, collect

log = logging.getLogger("gage_eval")
TITLE = "Scores vs checkpoint"


def write_outputs(root: Path, models: list[SweepModel], benches: list[SweepBenchmark], state: dict[str, Any]
                  ) -> list[Path]:
    rows = collect(root, models, benches, state)
    tests = {b.name: best_vs_last(root, rows, b) for b in benches}
    state["best"] = {name: None if t is None else {"best": t.best, "last": t.last, "value": t.best_value,
                                                   "p_value": t.p_value, "test": t.test, "n_paired": t.n_paired,
                                                   "diff": t.diff, "significant": t.significant}
                     for name, t in tests.items()}
    paths = [leaderboard.write_csv(root / "leaderboard.csv", rows, benches),
             leaderboard.write_markdown(root / "leaderboard.md", rows, benches, tests, state)]
    panel_list, x_label = plot.panels(rows, benches, tests)
    html = root / "scores_vs_step.html"
    html.write_text(plot.html_page(TITLE, panel_list, x_label, rows, benches), encoding="utf-8")
    paths.append(html)
    if plot_png.available():
        ticks = {float(i): r.name for i, r in enumerate(rows)} if x_label == "model" else {}
        paths.append(plot_png.write_png(root / "scores_vs_step.png", TITLE, panel_list, x_label, ticks))
    else:
        log.warning("scores_vs_step.png not written: Pillow is not installed (pip install 'gage-eval[sweep]'); "
                    "the HTML page has the same plot")
    return paths

"""leaderboard.csv and leaderboard.md: model × benchmark, scores in percent with 95% CIs."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from gage_eval.sweep.benchmarks import Score, SweepBenchmark
from gage_eval.sweep.results import BestVsLast, ModelRow


def cell(score: Score | None, bold: bool = False) -> str:
    if score is None or score.value is None:
        return "—"
    text = f"{score.value:.1f}"
    if bold:
        text = f"**{text}**"
    if score.low is not None and score.high is not None:
        text += f" [{score.low:.1f}, {score.high:.1f}]"
    return text


def write_csv(path: Path, rows: list[ModelRow], benches: list[SweepBenchmark]) -> Path:
    keys = [h.key for b in benches for h in b.headlines]
    header = ["model", "step", "status"]
    for key in keys:
        header += [key, f"{key}_ci_low", f"{key}_ci_high", f"{key}_n"]
    header.append("notes")
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in rows:
            line: list[Any] = [row.name, "" if row.step is None else row.step, row.status]
            for key in keys:
                s = row.scores.get(key)
                line += ["" if s is None or v is None else round(v, 4)
                         for v in (None if s is None else s.value, None if s is None else s.low,
                                   None if s is None else s.high)]
                line.append("" if s is None or s.n is None else s.n)
            line.append("; ".join(f"{b}: {n}" for b, n in row.notes.items()))
            writer.writerow(line)
    return path


def write_markdown(path: Path, rows: list[ModelRow], benches: list[SweepBenchmark],
                   tests: dict[str, BestVsLast | None], state: dict[str, Any]) -> Path:
    heads = [b.headlines[0] for b in benches]
    best = {t.headline.key: t.best for t in tests.values() if t is not None}
    out = ["# Checkpoint sweep", "",
           "Scores in %, with the 95% confidence interval in brackets (Wilson for 0/1 scores, mean ± 1.96·SE "
           "otherwise; AlpacaEval: the length-controlled win rate ± 1.96·its SE). **Bold**: the best checkpoint.",
           "", "| model | step | " + " | ".join(h.label for h in heads) + " |",
           "|---|---:|" + "---:|" * len(heads)]
    for row in rows:
        cells = [cell(row.scores.get(h.key), best.get(h.key) == row.name) if h.key in row.scores else
                 (row.notes.get(b.name, "—")) for b, h in zip(benches, heads)]
        out.append(f"| {row.name} | {'' if row.step is None else row.step} | " + " | ".join(cells) + " |")
    out += ["", "## Best checkpoint per benchmark", ""]
    for bench in benches:
        test = tests.get(bench.name)
        if test is None:
            out.append(f"- {bench.headlines[0].label}: no scores")
        else:
            out.append(f"- {test.headline.label}: best **{test.best}** ({test.best_value:.1f}); {test.sentence()}")
    extra = [h for b in benches for h in b.headlines[1:]]
    if extra:
        out += ["", "## All scores", "", "| model | " + " | ".join(h.label for h in extra) + " |",
                "|---|" + "---:|" * len(extra)]
        for row in rows:
            out.append(f"| {row.name} | " + " | ".join(cell(row.scores.get(h.key)) for h in extra) + " |")
    failed = [(name, info) for name, info in state.get("models", {}).items() if info.get("status") == "server_failed"]
    if failed:
        out += ["", "## Failed checkpoints", ""]
        for name, info in failed:
            out.append(f"- **{name}**: {str(info.get('error') or '').splitlines()[0] if info.get('error') else ''} "
                       f"(log: `{info.get('log')}`)")
            if info.get("log_tail"):
                out += ["", "```", *str(info["log_tail"]).splitlines()[-10:], "```", ""]
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path

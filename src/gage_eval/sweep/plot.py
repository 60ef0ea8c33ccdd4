"""The score-vs-step figure: one panel per benchmark (its headline score, in %), a point per checkpoint with its
95% CI as a whisker, the best checkpoint ringed and labelled, and the best-vs-last test under the title.

`panels()` is the figure as data; `html_page()` draws it as inline SVG (the report's chart style, no script,
opens from disk) next to the leaderboard; plot_png.py draws the same panels as a PNG.
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from gage_eval.report import svg
from gage_eval.sweep.benchmarks import SweepBenchmark
from gage_eval.sweep.results import BestVsLast, ModelRow

BEST = "#c0392b"


@dataclass
class Point:
    x: float
    label: str  # model name
    value: float
    low: float | None
    high: float | None


@dataclass
class Panel:
    title: str
    points: list[Point]
    best: str | None
    caption: str
    significant: bool

    def y_range(self) -> tuple[float, float]:
        values = [v for p in self.points for v in (p.value, p.low, p.high) if v is not None]
        hi = max(values) if values else 1.0
        ticks = svg.nice_ticks(0.0, hi * 1.1 if hi > 0 else 1.0)
        return ticks[0], min(ticks[-1], 100.0) if hi <= 100 else ticks[-1]


def panels(rows: list[ModelRow], benches: list[SweepBenchmark], tests: dict[str, BestVsLast | None]
           ) -> tuple[list[Panel], str]:
    """The panels and the x axis's name: the checkpoint step when every model has one, else the model order."""
    by_step = all(r.step is not None for r in rows)
    out = []
    for bench in benches:
        head = bench.headlines[0]
        points = [Point(float(r.step) if by_step else float(i), r.name, s.value, s.low, s.high)
                  for i, r in enumerate(rows) if (s := r.scores.get(head.key)) is not None and s.value is not None]
        test = tests.get(bench.name)
        out.append(Panel(head.label, points, test.best if test else None,
                         test.sentence() if test else "no scores", bool(test and test.significant)))
    return out, "checkpoint step" if by_step else "model"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def panel_svg(panel: Panel, x_label: str, tick_labels: dict[float, str]) -> Markup:
    lo, hi = panel.y_range()
    frame = svg.Frame(panel.title, lo, hi, "score (%)", x_label, width=560, height=320)
    frame.y_axis(svg.nice_ticks(lo, hi))
    xs = sorted({p.x for p in panel.points}) or [0.0]
    span = (xs[-1] - xs[0]) or 1.0
    pad = 0.08 * frame.plot_w

    def x(v: float) -> float:
        return frame.left + pad + (frame.plot_w - 2 * pad) * ((v - xs[0]) / span if len(xs) > 1 else 0.5)

    for v in xs if panel.points else []:
        frame.x_tick(x(v), tick_labels.get(v, svg.tick_text(v)))
    pts = sorted(panel.points, key=lambda p: p.x)
    if len(pts) > 1:
        d = "M" + "L".join(f"{x(p.x):.1f} {frame.y(p.value):.1f}" for p in pts)
        frame.parts.append(f'<path class="line" fill="none" stroke="{svg.PALETTE[0]}" stroke-width="2" d="{d}"/>')
    for p in pts:
        cx, cy = x(p.x), frame.y(p.value)
        if p.low is not None and p.high is not None:
            y1, y2 = frame.y(p.low), frame.y(p.high)
            frame.parts.append(f'<path class="ci" stroke="{svg.PALETTE[0]}" stroke-opacity="0.6" stroke-width="1.4" '
                               f'fill="none" d="M{cx:.1f} {y1:.1f}V{y2:.1f}M{cx - 5:.1f} {y1:.1f}h10M{cx - 5:.1f} '
                               f'{y2:.1f}h10"/>')
        ci = f" [{p.low:.1f}, {p.high:.1f}]" if p.low is not None and p.high is not None else ""
        best = p.label == panel.best
        frame.parts.append(f'<circle class="point{" best" if best else ""}" cx="{cx:.1f}" cy="{cy:.1f}" r="4" '
                           f'fill="{BEST if best else svg.PALETTE[0]}"><title>{_e(p.label)}: {p.value:.1f}{ci}'
                           f'{" (best)" if best else ""}</title></circle>')
        if best:
            frame.parts.append(f'<circle class="best-ring" cx="{cx:.1f}" cy="{cy:.1f}" r="9" fill="none" '
                               f'stroke="{BEST}" stroke-width="2"/><text class="best-label" x="{cx + 13:.1f}" '
                               f'y="{cy + 4:.1f}" text-anchor="start" font-size="11" font-weight="600" '
                               f'fill="{BEST}">best</text>')
    return frame.svg("sweep-panel")


_CSS = """
body{font-family:system-ui,sans-serif;margin:24px;color:#1d2330;background:#fafbfc}
h1{font-size:20px;margin:0 0 4px} .sub{color:#4a5263;margin:0 0 18px;font-size:13px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(480px,1fr));gap:16px}
.panel{background:#fff;border:1px solid #e6e8ee;border-radius:8px;padding:10px}
.panel svg{width:100%;height:auto}.test{font-size:12px;color:#4a5263;margin:4px 6px}
.test.sig{color:#1d7a46;font-weight:600}
table{border-collapse:collapse;margin-top:22px;background:#fff;font-size:13px}
th,td{border:1px solid #e6e8ee;padding:5px 9px;text-align:right}th:first-child,td:first-child{text-align:left}
td.best{color:#c0392b;font-weight:600}
"""


def html_page(title: str, panel_list: list[Panel], x_label: str, rows: list[ModelRow],
              benches: list[SweepBenchmark]) -> str:
    ticks = {}
    if x_label == "model":
        ticks = {float(i): r.name for i, r in enumerate(rows)}
    figures = "".join(
        f'<div class="panel">{panel_svg(p, x_label, ticks)}<p class="test{" sig" if p.significant else ""}">'
        f'{_e(p.caption)}</p></div>' for p in panel_list)
    heads = [b.headlines[0] for b in benches]
    best = {p.title: p.best for p in panel_list}
    body = "".join(
        f"<tr><td>{_e(r.name)}</td><td>{'' if r.step is None else r.step}</td>" + "".join(
            (f'<td class="{"best" if best.get(h.label) == r.name else ""}">{s.value:.1f}'
             + (f" [{s.low:.1f}, {s.high:.1f}]" if s.low is not None and s.high is not None else "") + "</td>")
            if (s := r.scores.get(h.key)) is not None else f"<td>{_e(r.notes.get(b.name, '—'))}</td>"
            for b, h in zip(benches, heads)) + "</tr>" for r in rows)
    table = ("<table id='leaderboard'><tr><th>model</th><th>step</th>" + "".join(f"<th>{_e(h.label)}</th>"
                                                                                    for h in heads)
             + f"</tr>{body}</table>")
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{_e(title)}</h1><p class='sub'>Scores in % with 95% CIs "
            f"(whiskers); the best checkpoint per benchmark is ringed; under each panel, whether it is significantly "
            f"better than the last checkpoint (paired test on shared samples).</p><div class='grid'>{figures}</div>"
            f"{table}</body></html>")

"""Small inline SVG charts: bars with intervals, histograms, horizontal bars and lines.

Why not plotly.js: inlined it made every report.html ~4.8 MB whatever the run's size. These charts cost a
few kB, need no script (they render from disk, in the viewer and in print), style themselves (presentation
attributes, so any page can show them) and show values on hover through SVG <title> elements. All text is
escaped: task names and failure reasons come from user data.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from markupsafe import Markup

PALETTE = ("#2f6fde", "#e07b39", "#2a9d6f", "#9b59b6", "#c0392b", "#7f8c8d", "#d4a017", "#16a2b8")
W, H = 640, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 62, 16, 34, 64
# Presentation attributes rather than CSS classes alone, so a chart looks right on any page that shows it.
_TICK = 'class="tick" font-size="11" fill="#4a5263"'
_LABEL = 'class="axis-label" font-size="11" fill="#4a5263"'
_LEGEND = 'class="legend" font-size="11" fill="#4a5263"'
_TITLE = 'class="chart-title" font-size="14" font-weight="600" fill="#1d2330"'
_WHISKER = 'class="whisker" stroke="#1d2330" stroke-width="1.2" fill="none"'
_GRID = 'class="grid" stroke="#e6e8ee"'


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def tick_text(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e6:
        return f"{value / 1e6:.4g}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:.4g}k"
    if abs(value) < 1e-3:
        return f"{value:.3g}"
    return f"{value:.4f}".rstrip("0").rstrip(".")


def nice_ticks(lo: float, hi: float, count: int = 5, integer: bool = False) -> list[float]:
    """Round tick values covering [lo, hi] (1, 2, 5 × 10^k steps; whole steps for counts)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(1, count)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    if integer:
        step = max(1.0, math.ceil(step))
    start = math.floor(lo / step + 1e-9) * step
    ticks, value = [], start
    while value <= hi + step * 1e-6:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < hi - step * 1e-6:
        ticks.append(round(value, 12))
    return ticks


@dataclass
class Frame:
    """The plot area of one chart and its y scale; pieces are appended as SVG markup strings."""
    title: str
    y_lo: float
    y_hi: float
    y_label: str = ""
    x_label: str = ""
    width: int = W
    height: int = H
    left: int = _LEFT
    parts: list[str] = field(default_factory=list)

    @property
    def plot_w(self) -> float:
        return self.width - self.left - _RIGHT

    @property
    def plot_h(self) -> float:
        return self.height - _TOP - _BOTTOM

    def y(self, value: float) -> float:
        span = (self.y_hi - self.y_lo) or 1.0
        return _TOP + self.plot_h * (1 - (value - self.y_lo) / span)

    def y_axis(self, ticks: Sequence[float]) -> None:
        for t in ticks:
            y = self.y(t)
            self.parts.append(f'<line {_GRID} x1="{self.left}" x2="{self.width - _RIGHT}" y1="{y:.1f}" '
                              f'y2="{y:.1f}"/><text {_TICK} x="{self.left - 6}" y="{y + 4:.1f}" '
                              f'text-anchor="end">{_e(tick_text(t))}</text>')
        if self.y_label:
            self.parts.append(f'<text {_LABEL} transform="translate(14 {_TOP + self.plot_h / 2:.0f}) '
                              f'rotate(-90)" text-anchor="middle">{_e(self.y_label)}</text>')

    def x_tick(self, x: float, text: str) -> None:
        short = text if len(text) <= 18 else text[:17] + "…"
        self.parts.append(f'<text {_TICK} x="{x:.1f}" y="{_TOP + self.plot_h + 16:.1f}" text-anchor="middle">'
                          f'<title>{_e(text)}</title>{_e(short)}</text>')

    def legend(self, names: Sequence[str]) -> None:
        if len(names) < 2:
            return
        x = self.left
        y = self.height - 6
        for i, name in enumerate(names):
            color = PALETTE[i % len(PALETTE)]
            self.parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{color}"/>'
                              f'<text {_LEGEND} x="{x + 14}" y="{y}">{_e(name)}</text>')
            x += 24 + 7 * len(name)

    def svg(self, css_class: str) -> Markup:
        bottom = _TOP + self.plot_h
        x_label = (f'<text {_LABEL} x="{self.left + self.plot_w / 2:.0f}" y="{bottom + 32:.0f}"'
                   f' text-anchor="middle">{_e(self.x_label)}</text>') if self.x_label else ""
        return Markup(
            f'<svg class="gage-chart {css_class}" viewBox="0 0 {self.width} {self.height}" role="img" '
            f'aria-label="{_e(self.title)}" font-family="system-ui, sans-serif">'
            f'<text {_TITLE} x="{self.left}" y="20">{_e(self.title)}</text>'
            f'<line class="axis" stroke="#9aa1ad" x1="{self.left}" x2="{self.width - _RIGHT}" y1="{bottom:.1f}" '
            f'y2="{bottom:.1f}"/>{"".join(self.parts)}{x_label}</svg>')


@dataclass
class BarSeries:
    name: str
    values: list[float | None]
    intervals: list[tuple[float, float] | None] | None = None  # drawn as whiskers (e.g. a 95% CI)


def bar_chart(title: str, categories: list[str], series: list[BarSeries], y_label: str = "",
              y_range: tuple[float, float] | None = None, x_label: str = "", fmt: str = "{:.4f}") -> Markup:
    """Grouped vertical bars, one group per category and one bar per series."""
    values = [v for s in series for v in s.values if v is not None]
    highs = [iv[1] for s in series for iv in (s.intervals or []) if iv]
    lo, hi = y_range or (min(0.0, *values) if values else 0.0, max([*values, *highs, 0.0]) * 1.08 or 1.0)
    ticks = nice_ticks(lo, hi)
    frame = Frame(title, ticks[0], ticks[-1], y_label, x_label)
    frame.y_axis(ticks)
    slot = frame.plot_w / max(1, len(categories))
    bar_w = min(48.0, slot * 0.8 / max(1, len(series)))
    base = frame.y(max(frame.y_lo, 0.0))
    for c, category in enumerate(categories):
        x0 = frame.left + slot * c + (slot - bar_w * len(series)) / 2
        for i, s in enumerate(series):
            value = s.values[c]
            if value is None:
                continue
            x, top = x0 + i * bar_w, frame.y(value)
            interval = (s.intervals or [None] * len(categories))[c]
            tip = f"{category} · {s.name}: {fmt.format(value)}" + (
                f" [{fmt.format(interval[0])}, {fmt.format(interval[1])}]" if interval else "")
            frame.parts.append(f'<rect class="bar" x="{x + 1:.1f}" y="{min(top, base):.1f}" width="{bar_w - 2:.1f}" '
                               f'height="{max(abs(base - top), 0.5):.1f}" fill="{PALETTE[i % len(PALETTE)]}">'
                               f'<title>{_e(tip)}</title></rect>')
            if interval:
                cx, y1, y2 = x + bar_w / 2, frame.y(interval[0]), frame.y(interval[1])
                frame.parts.append(f'<path {_WHISKER} d="M{cx:.1f} {y1:.1f}V{y2:.1f}M{cx - 4:.1f} {y1:.1f}'
                                   f'h8M{cx - 4:.1f} {y2:.1f}h8"/>')
        frame.x_tick(frame.left + slot * (c + 0.5), category)
    frame.legend([s.name for s in series])
    return frame.svg("bars")


def histogram(title: str, edges: list[float], counts: list[int], x_label: str, y_label: str = "samples") -> Markup:
    """Adjacent bars over numeric bins (edges has one more entry than counts)."""
    ticks = nice_ticks(0.0, max(counts or [1]) * 1.05, integer=True)
    frame = Frame(title, ticks[0], ticks[-1], y_label, x_label)
    frame.y_axis(ticks)
    lo, hi = edges[0], edges[-1]
    span = (hi - lo) or 1.0

    def x(v: float) -> float:
        return frame.left + frame.plot_w * (v - lo) / span

    for a, b, n in zip(edges, edges[1:], counts):
        top = frame.y(n)
        width = max(x(b) - x(a) - 1, 0.5)
        frame.parts.append(f'<rect class="bar" x="{x(a) + 0.5:.1f}" y="{top:.1f}" width="{width:.1f}"'
                           f' height="{frame.y(0) - top:.1f}" fill="{PALETTE[0]}"><title>{_e(tick_text(a))}–'
                           f'{_e(tick_text(b))} {_e(x_label)}: {n:,}</title></rect>')
    for t in nice_ticks(lo, hi, 6):
        if lo <= t <= hi:
            frame.x_tick(x(t), tick_text(t))
    return frame.svg("histogram")


def hbar_chart(title: str, labels: list[str], values: list[float], color: str = "#c0392b") -> Markup:
    """Horizontal bars, e.g. failures by reason; long labels are cut with the full text on hover."""
    height = max(140, 44 + 26 * len(labels) + 40)
    left = 12 + 7 * min(34, max((len(lb) for lb in labels), default=4))
    ticks = nice_ticks(0.0, max(values or [1]) * 1.05, integer=all(float(v).is_integer() for v in values))
    frame = Frame(title, 0, 1, width=W, height=height, left=left)
    span = ticks[-1] or 1.0
    for t in ticks:
        x = left + frame.plot_w * t / span
        frame.parts.append(f'<line {_GRID} x1="{x:.1f}" x2="{x:.1f}" y1="{_TOP}" y2="{_TOP + frame.plot_h:.1f}"/>'
                           f'<text {_TICK} x="{x:.1f}" y="{_TOP + frame.plot_h + 16:.1f}" text-anchor="middle">'
                           f'{_e(tick_text(t))}</text>')
    row = frame.plot_h / max(1, len(labels))
    for i, (label, value) in enumerate(zip(labels, values)):
        y = _TOP + row * i
        short = label if len(label) <= 34 else label[:33] + "…"
        frame.parts.append(f'<text {_TICK} x="{left - 6}" y="{y + row / 2 + 4:.1f}" text-anchor="end">'
                           f'<title>{_e(label)}</title>{_e(short)}</text>'
                           f'<rect class="bar" x="{left}" y="{y + row * 0.15:.1f}" '
                           f'width="{frame.plot_w * value / span:.1f}"'
                           f' height="{row * 0.7:.1f}" fill="{color}"><title>{_e(label)}: {value:,}</title></rect>')
    return frame.svg("hbars")


@dataclass
class LineSeries:
    name: str
    xs: list[float]
    ys: list[float | None]
    labels: list[str] | None = None  # hover text per point (e.g. the run id)


def line_chart(title: str, series: list[LineSeries], x_label: str, y_label: str, log_x: bool = False,
               fmt: str = "{:.4g}") -> Markup:
    """Lines with markers over a numeric x axis (log scale for parallel levels 1, 8, 32, 128...)."""
    points = [(x, y) for s in series for x, y in zip(s.xs, s.ys) if y is not None]
    xs = [p[0] for p in points] or [0.0, 1.0]
    ys = [p[1] for p in points] or [0.0, 1.0]
    ticks = nice_ticks(min(0.0, min(ys)), max(ys) * 1.08 if max(ys) > 0 else 1.0)
    frame = Frame(title, ticks[0], ticks[-1], y_label, x_label)
    frame.y_axis(ticks)
    tx = (lambda v: math.log10(max(v, 1e-12))) if log_x else (lambda v: v)
    lo, hi = tx(min(xs)), tx(max(xs))
    span = (hi - lo) or 1.0
    pad = 0.05 * frame.plot_w

    def x(v: float) -> float:
        return frame.left + pad + (frame.plot_w - 2 * pad) * ((tx(v) - lo) / span if hi > lo else 0.5)

    for v in sorted(set(xs)) if log_x or len(set(xs)) <= 12 else nice_ticks(min(xs), max(xs), 6):
        if min(xs) <= v <= max(xs):
            frame.x_tick(x(v), tick_text(v))
    for i, s in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        pts = [(x(px), frame.y(py), px, py, (s.labels or [""] * len(s.xs))[k])
               for k, (px, py) in enumerate(zip(s.xs, s.ys)) if py is not None]
        if len(pts) > 1:
            d = "M" + "L".join(f"{a:.1f} {b:.1f}" for a, b, *_ in pts)
            frame.parts.append(f'<path class="line" fill="none" stroke-width="2" d="{d}" stroke="{color}"/>')
        for a, b, px, py, label in pts:
            tip = f"{s.name}: {tick_text(px)} → {fmt.format(py)}" + (f" ({label})" if label else "")
            frame.parts.append(f'<circle class="point" cx="{a:.1f}" cy="{b:.1f}" r="3.5" fill="{color}">'
                               f'<title>{_e(tip)}</title></circle>')
    frame.legend([s.name for s in series])
    return frame.svg("lines")


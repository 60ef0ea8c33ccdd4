"""The score-vs-step figure as a PNG, drawn with Pillow (the `[sweep]` extra).

Why Pillow: matplotlib is not a dependency of gage-eval and would add ~40 MB (and its font cache) for one
figure; Pillow is one maintained wheel with FreeType inside. The panels are the ones the HTML page draws
(plot.panels); drawing at twice the size and scaling down gives smooth lines and text.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

from gage_eval.report import svg
from gage_eval.sweep.plot import BEST, Panel

S = 2  # supersampling
PANEL_W, PANEL_H = 560, 360
LEFT, RIGHT, TOP, BOTTOM = 58, 18, 44, 92


def available() -> bool:
    try:
        import PIL  # noqa: F401
    except ImportError:
        return False
    return True


def _rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16)


def _font(size: int):  # noqa: ANN202
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size * S)
    except TypeError:  # Pillow < 10.1: the fixed bitmap font
        return ImageFont.load_default()


def _panel(draw, ox: int, oy: int, panel: Panel, x_label: str, tick_labels: dict[float, str]) -> None:  # noqa: ANN001
    title, small, tiny = _font(14), _font(11), _font(10)
    ink, grey, grid, line = _rgb("#1d2330"), _rgb("#4a5263"), _rgb("#e6e8ee"), _rgb(svg.PALETTE[0])
    draw.rectangle([ox * S, oy * S, (ox + PANEL_W - 1) * S, (oy + PANEL_H - 1) * S], outline=grid, width=S,
                   fill=(255, 255, 255))
    draw.text(((ox + LEFT) * S, (oy + 12) * S), panel.title, font=title, fill=ink)
    lo, hi = panel.y_range()
    ticks = svg.nice_ticks(lo, hi)
    lo, hi = ticks[0], ticks[-1]
    pw, ph = PANEL_W - LEFT - RIGHT, PANEL_H - TOP - BOTTOM

    def y(v: float) -> float:
        return (oy + TOP + ph * (1 - (v - lo) / ((hi - lo) or 1))) * S

    for t in ticks:
        draw.line([(ox + LEFT) * S, y(t), (ox + LEFT + pw) * S, y(t)], fill=grid, width=S)
        draw.text(((ox + LEFT - 6) * S, y(t)), svg.tick_text(t), font=small, fill=grey, anchor="rm")
    draw.text(((ox + 6) * S, (oy + TOP + ph / 2) * S), "%", font=small, fill=grey, anchor="lm")
    xs = sorted({p.x for p in panel.points}) or [0.0]
    span = (xs[-1] - xs[0]) or 1.0
    pad = 0.08 * pw

    def x(v: float) -> float:
        frac = (v - xs[0]) / span if len(xs) > 1 else 0.5
        return (ox + LEFT + pad + (pw - 2 * pad) * frac) * S

    base = (oy + TOP + ph) * S
    draw.line([(ox + LEFT) * S, base, (ox + LEFT + pw) * S, base], fill=_rgb("#9aa1ad"), width=S)
    for v in xs if panel.points else []:
        label = tick_labels.get(v, svg.tick_text(v))
        draw.text((x(v), base + 6 * S), label[:16], font=small, fill=grey, anchor="ma")
    draw.text(((ox + LEFT + pw / 2) * S, base + 24 * S), x_label, font=small, fill=grey, anchor="ma")
    pts = sorted(panel.points, key=lambda p: p.x)
    if len(pts) > 1:
        draw.line([(x(p.x), y(p.value)) for p in pts], fill=line, width=2 * S, joint="curve")
    for p in pts:
        cx, cy = x(p.x), y(p.value)
        if p.low is not None and p.high is not None:
            whisker = tuple(int(c * 0.6 + 255 * 0.4) for c in line)
            draw.line([cx, y(p.low), cx, y(p.high)], fill=whisker, width=int(1.5 * S))
            for end in (p.low, p.high):
                draw.line([cx - 5 * S, y(end), cx + 5 * S, y(end)], fill=whisker, width=int(1.5 * S))
        best = p.label == panel.best
        r = 4 * S
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=_rgb(BEST) if best else line)
        if best:
            r = 9 * S
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=_rgb(BEST), width=2 * S)
            draw.text((cx + 12 * S, cy), "best", font=small, fill=_rgb(BEST), anchor="lm")
    caption = textwrap.wrap(panel.caption.replace("α", "alpha"), 92)[:3]  # the default font has no Greek
    for i, text in enumerate(caption):
        color = _rgb("#1d7a46") if panel.significant else grey
        draw.text(((ox + 10) * S, base + (44 + 13 * i) * S), text, font=tiny, fill=color)


def write_png(path: Path, title: str, panel_list: list[Panel], x_label: str, tick_labels: dict[float, str]) -> Path:
    from PIL import Image, ImageDraw

    cols = 1 if len(panel_list) == 1 else 2
    rows = max(1, (len(panel_list) + cols - 1) // cols)
    width, height = 20 + cols * (PANEL_W + 16), 56 + rows * (PANEL_H + 16)
    image = Image.new("RGB", (width * S, height * S), _rgb("#fafbfc"))
    draw = ImageDraw.Draw(image)
    draw.text((20 * S, 16 * S), title, font=_font(18), fill=_rgb("#1d2330"))
    for i, panel in enumerate(panel_list):
        _panel(draw, 20 + (i % cols) * (PANEL_W + 16), 56 + (i // cols) * (PANEL_H + 16), panel, x_label,
               tick_labels)
    image = image.resize((width, height), Image.Resampling.LANCZOS)
    image.save(path, format="PNG", optimize=True)
    return path

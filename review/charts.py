"""Accessible SVG charts drawn on the server: no JavaScript, no library, nothing inline that the CSP forbids.

Each chart is an ``<svg role="img">`` labelled by its own ``<title>`` and ``<desc>`` (the desc
says what the chart shows and that the numbers are in the table below it). Colours come from CSS
classes in ``static/review.css`` (``series-0`` …), never ``style`` attributes, and every series also
differs in its position and legend text, not in colour alone. Each bar carries its numbers as data
attributes (``data-label``, ``data-series``, ``data-value``) and a ``<title>`` tooltip; bar lengths
are proportional to the value (zero-based axis).
"""

from __future__ import annotations

import math
from itertools import count
from typing import List, Optional, Sequence, Tuple

from markupsafe import Markup, escape

_ids = count(1)


def nice_max(value: float) -> float:
    """The smallest 1, 2, 4 or 8 × 10^k at or above ``value`` (1 for nothing): an axis whose quarters
    are round numbers."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 4, 8, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _num(value: float) -> str:
    return f"{value:g}" if abs(value) >= 1 or value == 0 else f"{value:.2g}"


def _fmt(value: Optional[float], unit: str) -> str:
    if value is None:
        return "no data"
    text = f"{value:.1f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    return f"{text}{unit}"


def _frame(title: str, desc: str, width: int, height: int, body: List[str], css: str) -> Markup:
    n = next(_ids)
    return Markup(
        f'<svg class="chart {escape(css)}" role="img" aria-labelledby="chart-t{n} chart-d{n}" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart-t{n}">{escape(title)}</title><desc id="chart-d{n}">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def bar_chart(
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[Tuple[str, Sequence[Optional[float]]]],
    unit: str = "",
    width: int = 760,
    height: int = 240,
    tick_labels: Optional[Sequence[str]] = None,
    css: str = "",
) -> Markup:
    """Vertical bars, one group per label, one bar per series (None: no bar, "no data")."""
    left, right, top, bottom = 48, 12, 10 + 18 * (len(series) > 1), 42
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, vals in series for v in vals if v is not None]
    ymax = nice_max(max(values) if values else 0)
    body: List[str] = []
    for i in range(5):  # axis: 0, 1/4 … max
        v = ymax * i / 4
        y = top + plot_h - plot_h * i / 4
        body.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(_num(v))}{escape(unit)}</text>"
        )
    n = max(1, len(labels))
    slot = plot_w / n
    bar_w = max(1.0, min(28.0, slot * 0.8 / max(1, len(series))))
    ticks = tick_labels or labels
    every = max(1, math.ceil(n / max(1, plot_w // 52)))  # room for a label every ~52 px
    for i, label in enumerate(labels):
        x0 = left + slot * i + (slot - bar_w * len(series)) / 2
        for s, (name, vals) in enumerate(series):
            value = vals[i]
            if value is None:
                continue
            h = plot_h * value / ymax
            x = x0 + s * bar_w
            body.append(
                f'<rect class="bar series-{s}" x="{x:.1f}" y="{top + plot_h - h:.2f}" width="{bar_w:.1f}" '
                f'height="{h:.2f}" data-label="{escape(label)}" data-series="{escape(name)}" '
                f'data-value="{value:g}">'
                f"<title>{escape(label)}: {escape(name)} {escape(_fmt(value, unit))}</title></rect>"
            )
        if i % every == 0:
            body.append(
                f'<text class="axis" x="{left + slot * i + slot / 2:.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle">{escape(ticks[i])}</text>'
            )
    body.append(f'<line class="baseline" x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}"/>')
    if len(series) > 1:
        x = left
        for s, (name, _) in enumerate(series):
            body.append(
                f'<rect class="swatch series-{s}" x="{x}" y="2" width="12" height="12"/>'
                f'<text class="legend" x="{x + 16}" y="12">{escape(name)}</text>'
            )
            x += 24 + 7 * len(name)
    return _frame(title, desc, width, height, body, css)


def hbar_chart(
    title: str,
    desc: str,
    labels: Sequence[str],
    values: Sequence[float],
    unit: str = "",
    width: int = 760,
    label_width: int = 300,
    css: str = "",
    series: str = "count",
) -> Markup:
    """Horizontal bars, one per label (long labels are shortened; the table has them in full)."""
    row_h, top = 24, 6
    height = top + row_h * max(1, len(labels)) + 22
    plot_w = width - label_width - 60
    vmax = nice_max(max(values) if values else 0)
    body: List[str] = []
    for i, (label, v) in enumerate(zip(labels, values)):
        y = top + row_h * i
        w = plot_w * v / vmax
        short = label if len(label) <= 44 else label[:42] + "…"
        body.append(
            f'<text class="axis" x="{label_width - 8}" y="{y + 16}" text-anchor="end">{escape(short)}</text>'
            f'<rect class="bar series-0" x="{label_width}" y="{y + 4}" width="{w:.2f}" height="{row_h - 8}" '
            f'data-label="{escape(label)}" data-series="{escape(series)}" data-value="{v:g}">'
            f"<title>{escape(label)}: {escape(_fmt(v, unit))}</title></rect>"
            f'<text class="value" x="{label_width + w + 6:.1f}" y="{y + 16}">{escape(_fmt(v, unit))}</text>'
        )
    body.append(
        f'<line class="baseline" x1="{label_width}" x2="{label_width}" y1="{top}" '
        f'y2="{top + row_h * max(1, len(labels))}"/>'
    )
    return _frame(title, desc, width, height, body, css)


def sparkline(title: str, labels: Sequence[str], values: Sequence[float], width: int = 160, height: int = 28) -> Markup:
    """A tiny bar chart (a group's trend), labelled as a whole; its numbers are printed beside it."""
    vmax = nice_max(max(values) if values else 0)
    slot = width / max(1, len(values))
    body = []
    for i, (label, v) in enumerate(zip(labels, values)):
        h = (height - 2) * v / vmax
        body.append(
            f'<rect class="bar series-0" x="{i * slot + slot * 0.1:.1f}" y="{height - h:.2f}" '
            f'width="{max(1.0, slot * 0.8):.1f}" height="{h:.2f}" data-label="{escape(label)}" '
            f'data-value="{v:g}"/>'
        )
    n = next(_ids)
    return Markup(
        f'<svg class="sparkline" role="img" aria-labelledby="chart-t{n}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg"><title id="chart-t{n}">'
        f"{escape(title)}</title>" + "".join(body) + "</svg>"
    )

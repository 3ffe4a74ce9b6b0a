"""Small inline-SVG charts for the HTML report: grouped bars, horizontal bars and lines with points.

Charts are drawn here, in Python, as SVG text: the report is one file that works offline, with no
script and nothing fetched. Every data point is one element with class ``mark`` (a ``rect`` or a
``circle``) carrying a ``<title>`` with its value, so a browser shows the value on hover and a test
can count what was drawn against the figures (``Chart.marks``).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 560, 300
LEFT, RIGHT, TOP, BOTTOM = 60, 60, 28, 56
PALETTE = ("#2563eb", "#f97316", "#16a34a", "#9333ea", "#64748b")

Format = Callable[[float], str]


@dataclass(frozen=True)
class Chart:
    """One chart: its id (``chart-<id>`` in the page), title, how to read it, the SVG, its mark count."""

    id: str
    title: str
    caption: str
    svg: str
    marks: int


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    color: str
    xs: Sequence[float] = ()
    axis: str = "left"


def percent(value: float) -> str:
    return f"{value:.0%}" if value >= 0.1 or value == 0 else f"{value:.1%}"


def plain(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def nice_max(value: float) -> float:
    """An axis end at or above ``value`` whose four tick steps are round numbers (1, 2, 2.5, 5 x 10^k)."""
    if value <= 0:
        return 1.0
    quarter = value / 4
    magnitude = 10 ** math.floor(math.log10(quarter))
    for step in (1, 2, 2.5, 5, 10):
        if quarter <= step * magnitude * (1 + 1e-9):
            return float(4 * step * magnitude)
    return float(40 * magnitude)


def _open(chart_id: str, label: str) -> list[str]:
    return [f'<svg id="chart-{_e(chart_id)}" class="chart" xmlns="http://www.w3.org/2000/svg" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{_e(label)}">']


def _y_axis(parts: list[str], top: float, fmt: Format, *, right: bool = False, label: str = "") -> None:
    x = WIDTH - RIGHT if right else LEFT
    for i in range(5):
        value = top * i / 4
        y = _y(value, top)
        if not right:
            parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        anchor, dx = ("start", 6) if right else ("end", -6)
        parts.append(f'<text class="tick" x="{x + dx}" y="{y + 4:.1f}" text-anchor="{anchor}">{_e(fmt(value))}</text>')
    if label:
        lx = WIDTH - 12 if right else 14
        parts.append(f'<text class="axis-label" transform="translate({lx},{TOP + (HEIGHT - TOP - BOTTOM) / 2}) '
                     f'rotate({90 if right else -90})" text-anchor="middle">{_e(label)}</text>')


def _y(value: float, top: float) -> float:
    span = HEIGHT - TOP - BOTTOM
    return HEIGHT - BOTTOM - span * (value / top if top else 0.0)


def _x_label(parts: list[str], label: str) -> None:
    parts.append(f'<text class="axis-label" x="{LEFT + (WIDTH - LEFT - RIGHT) / 2}" y="{HEIGHT - 6}" '
                 f'text-anchor="middle">{_e(label)}</text>')


def _legend(parts: list[str], series: Sequence[Series]) -> None:
    x = LEFT
    for item in series:
        parts.append(f'<rect x="{x}" y="8" width="10" height="10" fill="{item.color}"/>')
        parts.append(f'<text class="legend" x="{x + 14}" y="17">{_e(item.name)}</text>')
        x += 24 + 7 * len(item.name)


def bar_chart(chart_id: str, title: str, caption: str, categories: Sequence[str], series: Sequence[Series], *,
              fmt: Format, x_label: str, y_label: str, reference: float | None = None,
              label_every: int = 1) -> Chart:
    """Grouped vertical bars: one group per category, one bar per series."""
    top = nice_max(max([v for s in series for v in s.values if v is not None] + [reference or 0.0, 1e-12]))
    parts = _open(chart_id, title)
    _y_axis(parts, top, fmt, label=y_label)
    plot = WIDTH - LEFT - RIGHT
    group = plot / max(len(categories), 1)
    bar = group * 0.8 / max(len(series), 1)
    rotate = max((len(c) for c in categories[::label_every]), default=0) * 6.5 > group * label_every
    marks = 0
    for i, category in enumerate(categories):
        for j, item in enumerate(series):
            value = item.values[i] or 0.0
            x = LEFT + i * group + group * 0.1 + j * bar
            y = _y(value, top)
            parts.append(f'<rect class="mark" x="{x:.1f}" y="{y:.1f}" width="{max(bar - 1, 1):.1f}" '
                         f'height="{HEIGHT - BOTTOM - y:.1f}" fill="{item.color}"><title>{_e(category)}: '
                         f'{_e(item.name)} {_e(fmt(value))}</title></rect>')
            marks += 1
        if i % label_every == 0:
            x = LEFT + (i + 0.5) * group
            if rotate:
                parts.append(f'<text class="tick" x="{x:.1f}" y="{HEIGHT - BOTTOM + 10}" text-anchor="end" '
                             f'transform="rotate(-25 {x:.1f} {HEIGHT - BOTTOM + 10})">{_e(category)}</text>')
            else:
                parts.append(f'<text class="tick" x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" '
                             f'text-anchor="middle">{_e(category)}</text>')
    if reference is not None:
        y = _y(reference, top)
        parts.append(f'<line class="reference" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="tick" x="{WIDTH - RIGHT + 4}" y="{y + 4:.1f}">avg</text>')
    if len(series) > 1:
        _legend(parts, series)
    if not rotate:  # slanted category names take the axis label's room; they say what the axis is
        _x_label(parts, x_label)
    parts.append("</svg>")
    return Chart(chart_id, title, caption, "".join(parts), marks)


def hbar_chart(chart_id: str, title: str, caption: str, labels: Sequence[str], values: Sequence[float],
               ranges: Sequence[tuple[float, float]], *, fmt: Format, x_label: str, color: str = PALETTE[0]
               ) -> Chart:
    """Horizontal bars (one per label) with an optional low-high whisker per bar."""
    high = nice_max(max([*values, *(r[1] for r in ranges), 1e-12]))
    height = max(HEIGHT, TOP + BOTTOM + 22 * len(labels))
    left = 150
    parts = [f'<svg id="chart-{_e(chart_id)}" class="chart" xmlns="http://www.w3.org/2000/svg" '
             f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="{_e(title)}">']
    plot = WIDTH - left - RIGHT
    row = (height - TOP - BOTTOM) / max(len(labels), 1)
    for i in range(5):
        x = left + plot * i / 4
        parts.append(f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{height - BOTTOM}"/>')
        parts.append(f'<text class="tick" x="{x:.1f}" y="{height - BOTTOM + 14}" text-anchor="middle">'
                     f'{_e(fmt(high * i / 4))}</text>')
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = TOP + i * row + row * 0.15
        width = plot * value / high
        parts.append(f'<text class="tick" x="{left - 6}" y="{y + row * 0.5:.1f}" text-anchor="end">{_e(label)}</text>')
        parts.append(f'<rect class="mark" x="{left}" y="{y:.1f}" width="{width:.1f}" height="{row * 0.7:.1f}" '
                     f'fill="{color}"><title>{_e(label)}: {_e(fmt(value))}</title></rect>')
        if ranges:
            low_x, high_x = (left + plot * r / high for r in ranges[i])
            middle = y + row * 0.35
            parts.append(f'<line class="whisker" x1="{low_x:.1f}" x2="{high_x:.1f}" y1="{middle:.1f}" '
                         f'y2="{middle:.1f}"/>')
    parts.append(f'<text class="axis-label" x="{left + plot / 2}" y="{height - 6}" text-anchor="middle">'
                 f'{_e(x_label)}</text>')
    parts.append("</svg>")
    return Chart(chart_id, title, caption, "".join(parts), len(labels))


def line_chart(chart_id: str, title: str, caption: str, series: Sequence[Series], *, x_max: float,
               fmt_x: Format, fmt_left: Format, x_label: str, y_label: str, left_max: float | None = None,
               right_max: float | None = None, fmt_right: Format | None = None, right_label: str = "",
               diagonal: bool = False) -> Chart:
    """Lines through points (each point a mark); series on the ``right`` axis get their own scale."""
    def top_of(axis: str) -> float:
        values = [v for s in series if s.axis == axis for v in s.values if v is not None]
        return nice_max(max([*values, 1e-12]))

    tops = {"left": left_max or top_of("left"), "right": right_max or top_of("right")}
    parts = _open(chart_id, title)
    _y_axis(parts, tops["left"], fmt_left, label=y_label)
    if any(s.axis == "right" for s in series):
        _y_axis(parts, tops["right"], fmt_right or fmt_left, right=True, label=right_label)
    plot = WIDTH - LEFT - RIGHT
    for i in range(5):
        x = LEFT + plot * i / 4
        parts.append(f'<text class="tick" x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">'
                     f'{_e(fmt_x(x_max * i / 4))}</text>')
    if diagonal:
        parts.append(f'<line class="reference" x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" '
                     f'y2="{_y(min(x_max, tops["left"]), tops["left"]):.1f}"/>')
    marks = 0
    for item in series:
        top = tops[item.axis]
        points = [(LEFT + plot * x / x_max, _y(v, top), x, v)
                  for x, v in zip(item.xs, item.values, strict=True) if v is not None]
        if points:
            path = " ".join(f"{'M' if k == 0 else 'L'}{px:.1f},{py:.1f}" for k, (px, py, _, _) in enumerate(points))
            parts.append(f'<path class="line" d="{path}" stroke="{item.color}"/>')
        for px, py, x, v in points:
            shown = (fmt_right or fmt_left)(v) if item.axis == "right" else fmt_left(v)
            parts.append(f'<circle class="mark" cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{item.color}">'
                         f'<title>{_e(item.name)}: {_e(fmt_x(x))} -> {_e(shown)}</title></circle>')
            marks += 1
    _legend(parts, series)
    _x_label(parts, x_label)
    parts.append("</svg>")
    return Chart(chart_id, title, caption, "".join(parts), marks)

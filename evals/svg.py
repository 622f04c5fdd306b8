"""Tiny inline-SVG charts for the HTML report (no dependencies, no scripts)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

_FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _color(value: float) -> str:
    """Red (0) through amber to green (1)."""
    if value >= 0.9:
        return "#2e7d32"
    if value >= 0.7:
        return "#9e9d24"
    if value >= 0.5:
        return "#ef6c00"
    return "#c62828"


def bar_chart(
    items: Sequence[tuple[str, float | None]],
    *,
    max_value: float = 1.0,
    fmt: Callable[[float], str] = lambda v: f"{v:.0%}",
    title: str = "",
    width: int = 560,
    colored: bool = True,
) -> str:
    """Horizontal bars, one per ``(label, value)``; ``None`` values show as "n/a"."""
    label_w, bar_h, gap, top = 190, 18, 6, 24 if title else 4
    plot_w = width - label_w - 60
    height = top + len(items) * (bar_h + gap) + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}">'
    ]
    if title:
        parts.append(f'<text x="0" y="14" {_FONT} font-weight="bold">{escape(title)}</text>')
    for i, (label, value) in enumerate(items):
        y = top + i * (bar_h + gap)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" {_FONT} text-anchor="end">{escape(label)}</text>'
        )
        parts.append(
            f'<rect x="{label_w}" y="{y}" width="{plot_w}" height="{bar_h}" fill="#eeeeee"/>'
        )
        if value is None:
            parts.append(f'<text x="{label_w + 4}" y="{y + 13}" {_FONT}>n/a</text>')
            continue
        share = max(0.0, min(1.0, value / max_value if max_value else 0.0))
        fill = _color(share) if colored else "#1565c0"
        parts.append(
            f'<rect x="{label_w}" y="{y}" width="{plot_w * share:.1f}" height="{bar_h}" '
            f'fill="{fill}"><title>{escape(label)}: {escape(fmt(value))}</title></rect>'
        )
        parts.append(
            f'<text x="{label_w + plot_w + 6}" y="{y + 13}" {_FONT}>{escape(fmt(value))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def histogram(
    values: Sequence[float],
    *,
    bins: int = 20,
    title: str = "",
    unit: str = "ms",
    marks: dict[str, float] | None = None,
    width: int = 560,
    height: int = 200,
) -> str:
    """A histogram of ``values`` with optional vertical marks (e.g. p50, p95)."""
    left, bottom, top = 40, 30, 24 if title else 6
    plot_w, plot_h = width - left - 10, height - bottom - top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}">'
    ]
    if title:
        parts.append(f'<text x="0" y="14" {_FONT} font-weight="bold">{escape(title)}</text>')
    if not values:
        parts.append(f'<text x="{left}" y="{top + 20}" {_FONT}>no data</text></svg>')
        return "".join(parts)
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - low) / span * bins))] += 1
    peak = max(counts)
    bar_w = plot_w / bins
    for i, count in enumerate(counts):
        h = plot_h * count / peak
        x, y = left + i * bar_w, top + plot_h - h
        start = low + span * i / bins
        end = low + span * (i + 1) / bins
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar_w - 1, 1):.1f}" height="{h:.1f}" '
            f'fill="#1565c0"><title>{start:.0f}–{end:.0f} {unit}: {count}</title></rect>'
        )
    axis_y = top + plot_h
    parts.append(
        f'<line x1="{left}" y1="{axis_y}" x2="{left + plot_w}" y2="{axis_y}" stroke="#555"/>'
    )
    for frac in (0, 0.5, 1):
        x = left + plot_w * frac
        parts.append(
            f'<text x="{x:.1f}" y="{axis_y + 16}" {_FONT} text-anchor="middle">'
            f"{low + span * frac:.0f}</text>"
        )
    parts.append(f'<text x="0" y="{top + 10}" {_FONT}>{peak}</text>')
    parts.append(
        f'<text x="{left + plot_w}" y="{axis_y + 28}" {_FONT} text-anchor="end">{unit}</text>'
    )
    for name, value in (marks or {}).items():
        if value is None or math.isnan(value):
            continue
        x = left + plot_w * (value - low) / span
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{axis_y}" stroke="#c62828" '
            f'stroke-dasharray="4 3"/>'
            f'<text x="{x + 3:.1f}" y="{top + 10}" {_FONT} fill="#c62828">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)

"""Charts drawn on the server as inline SVG: no JavaScript, no chart library, no CDN.

Only presentation attributes (``fill``, ``x``…) are used, never ``style=``, so the strict CSP
holds. Labels are escaped; sizes scale with the viewBox so a 360 px phone shows the whole chart.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#0d6efd", "#6c757d", "#198754", "#dc3545", "#fd7e14", "#6f42c1")


def _num(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}"
    return str(int(value))


def bar_chart(
    items: Sequence[tuple[str, float | int | None]],
    *,
    title: str,
    colour: str = PALETTE[0],
    unit: str = "",
) -> SafeString:
    """Horizontal bars, one row per (label, value); the value is written at the end of its bar."""
    row, label_w, bar_w, pad = 26, 110, 200, 8
    width = label_w + bar_w + 60
    height = pad * 2 + 22 + row * max(1, len(items))
    peak = max((v or 0 for _label, v in items), default=0) or 1
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="{pad}" y="{pad + 12}" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    if not items:
        parts.append(f'<text x="{pad}" y="{pad + 40}" font-size="12" fill="#6c757d">无数据</text>')
    for i, (label, value) in enumerate(items):
        y = pad + 22 + i * row
        length = round(bar_w * (value or 0) / peak, 1)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" font-size="12" text-anchor="end">'
            f"{escape(str(label)[:9])}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{length}" height="{row - 8}" fill="{colour}" rx="2"/>'
            f'<text x="{label_w + length + 4}" y="{y + 15}" font-size="12">'
            f"{escape(_num(value))}{escape(unit)}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every label above is escaped


def compare_chart(
    items: Sequence[tuple[str, float | int | None, float | int | None]],
    *,
    title: str,
    current_label: str,
    previous_label: str,
) -> SafeString:
    """Two bars per row: this month (blue) over last month (grey), each row scaled to itself."""
    row, label_w, bar_w, pad = 34, 110, 190, 8
    width = label_w + bar_w + 70
    height = pad * 2 + 40 + row * max(1, len(items))
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="{pad}" y="{pad + 12}" font-size="13" font-weight="bold">{escape(title)}</text>',
        f'<rect x="{pad}" y="{pad + 20}" width="10" height="10" fill="{PALETTE[0]}"/>'
        f'<text x="{pad + 14}" y="{pad + 29}" font-size="11">{escape(current_label)}</text>'
        f'<rect x="{pad + 90}" y="{pad + 20}" width="10" height="10" fill="#adb5bd"/>'
        f'<text x="{pad + 104}" y="{pad + 29}" font-size="11">{escape(previous_label)}</text>',
    ]
    for i, (label, current, previous) in enumerate(items):
        y = pad + 40 + i * row
        peak = max(current or 0, previous or 0) or 1
        a = round(bar_w * (current or 0) / peak, 1)
        b = round(bar_w * (previous or 0) / peak, 1)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 16}" font-size="12" text-anchor="end">'
            f"{escape(str(label)[:9])}</text>"
            f'<rect x="{label_w}" y="{y + 2}" width="{a}" height="12" fill="{PALETTE[0]}"/>'
            f'<text x="{label_w + a + 4}" y="{y + 12}" font-size="11">{escape(_num(current))}</text>'
            f'<rect x="{label_w}" y="{y + 16}" width="{b}" height="12" fill="#adb5bd"/>'
            f'<text x="{label_w + b + 4}" y="{y + 26}" font-size="11">{escape(_num(previous))}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every label above is escaped

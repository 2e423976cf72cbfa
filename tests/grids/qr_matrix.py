"""Read the modules back out of the SVG that grids.qr draws, to check what a code encodes."""

import re

import segno

from grids.qr import QUIET_ZONE


def svg_dark_modules(svg: str) -> set[tuple[int, int]]:
    """(column, row) of every dark module in segno's path (``M2 2.5h7m2 0h1m-25 1h1…``)."""
    path = re.search(r'<path class="qrline"[^>]*\sd="([^"]+)"', svg)
    assert path, "no module path in the SVG"
    x = y = 0.0
    dark = set()
    for command, a, b in re.findall(r"([MmHh])\s*(-?[0-9.]+)(?:\s+(-?[0-9.]+))?", path.group(1)):
        a = float(a)
        if command == "M":
            x, y = a, float(b)
        elif command == "m":
            x, y = x + a, y + float(b)
        else:  # h: a horizontal run of dark modules on the row
            row = int(y - 0.5) - QUIET_ZONE
            dark.update((int(x) + i - QUIET_ZONE, row) for i in range(int(a)))
            x += a
    return dark


def expected_dark_modules(data: str) -> set[tuple[int, int]]:
    """The dark modules of a freshly made code for ``data`` (same error level as grids.qr)."""
    matrix = segno.make(data, error="m").matrix
    return {(c, r) for r, row in enumerate(matrix) for c, value in enumerate(row) if value}


def svg_encodes(svg: str, data: str) -> bool:
    return svg_dark_modules(svg) == expected_dark_modules(data)

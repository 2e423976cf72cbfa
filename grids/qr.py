"""QR codes rendered as inline SVG on the server (no JavaScript, no external service)."""

import segno
from django.utils.safestring import SafeString, mark_safe

QUIET_ZONE = 2


def qr_code(data: str) -> segno.QRCode:
    return segno.make(data, error="m")


def qr_svg(data: str, *, scale: int = 4) -> SafeString:
    """The code as an SVG that scales: a viewBox, and a default size that CSS may override.

    Print styles size the code in mm (32 mm on a card, 45 mm on an A3 sheet); without a viewBox
    the browser would cut the drawing at that size instead of shrinking it.
    """
    code = qr_code(data)
    svg = code.svg_inline(scale=scale, border=QUIET_ZONE, dark="#000", light="#fff", omitsize=True)
    side = code.symbol_size(scale=scale, border=QUIET_ZONE)[0]
    svg = svg.replace("<svg ", f'<svg width="{side}" height="{side}" ', 1)
    # segno builds the markup from the data's modules only; no user text is embedded.
    return mark_safe(svg)  # noqa: S308

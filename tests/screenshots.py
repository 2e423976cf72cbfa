"""Screenshots taken by the browser tests.

Every browser test that shows a page saves it, so that a rendering failure leaves a picture to
look at: in ``var/screenshots/`` (ignored by git). With ``UPDATE_SCREENSHOTS=1`` they are
written to ``docs/screenshots/`` instead, refreshing the pictures of the user guides.
"""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def shot(target, name: str, *, full_page: bool = True) -> Path:
    """Save a page (or a locator: ``full_page`` is ignored) under ``name``; returns the path."""
    folder = ROOT / (
        "docs/screenshots" if os.environ.get("UPDATE_SCREENSHOTS") else "var/screenshots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if hasattr(target, "set_viewport_size"):
        target.screenshot(path=str(path), full_page=full_page)
    else:
        target.screenshot(path=str(path))
    return path

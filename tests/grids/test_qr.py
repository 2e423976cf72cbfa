"""The QR code SVG scales to the size print CSS gives it, and encodes exactly the URL."""

import re

from grids.qr import qr_svg
from tests.grids.qr_matrix import svg_encodes

URL = "https://wg.example.cn/p/card/7KX2M9QAB3ZD/"


def test_svg_has_a_view_box_matching_its_default_size():
    svg = qr_svg(URL, scale=5)

    opening = re.match(r"<svg [^>]*>", svg).group(0)
    view_box = re.search(r'viewBox="0 0 ([0-9.]+) ([0-9.]+)"', opening)
    width = re.search(r'width="([0-9.]+)"', opening)
    assert view_box and width
    assert view_box.group(1) == view_box.group(2) == width.group(1)


def test_svg_modules_encode_the_url():
    assert svg_encodes(qr_svg(URL), URL)
    assert svg_encodes(qr_svg(URL, scale=7), URL)


def test_svg_of_another_url_does_not_match():
    assert not svg_encodes(qr_svg(URL.replace("7KX", "7KY")), URL)

"""Photo uploads: images only, a size limit, no EXIF (so no GPS position), generated names,
decompression bombs refused. Visits, requests, claims and meeting photos all go through
``grids.services.photo_shrink``; each is uploaded to here through its real form."""

from __future__ import annotations

import io
import os
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import ExifTags, Image

from deliberation.models import MeetingPhoto
from governance.models import Request
from grids.models import Visit
from points.models import Claim
from tests.points.factories import make_rule
from tests.security.hostile import table_state

CJK = re.compile(r"[\u4e00-\u9fff]")


def jpeg_with_gps(size=(640, 480)) -> bytes:
    image = Image.new("RGB", size, (200, 120, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Phone 12"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (28.0, 12.0, 30.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (112.0, 53.0, 10.25)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    data = buffer.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # really there
    return data


def png_bytes(width: int, height: int, noise: bool = False) -> bytes:
    if noise:
        image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    else:
        image = Image.new("1", (width, height))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=0 if noise else 9)
    return buffer.getvalue()


@pytest.fixture
def upload_to(world, client_for):
    """(client, url, data, model, field) for each of the four photo forms, one per name."""
    o = world.obj
    today = timezone.localdate().isoformat()
    clerk = world.users["clerk_x"]

    def _target(kind: str):
        if kind == "visit":
            return (
                client_for("rep_a"),
                reverse("rep:visit_new"),
                {"household": o.household.pk, "method": "in_person", "note": "走访"},
                "photo",
                lambda: Visit.objects.order_by("-pk").first().photo,
            )
        if kind == "request":
            return (
                client_for("rep_a"),
                reverse("rep:request_new"),
                {
                    "household": o.household.pk,
                    "kind": "request",
                    "title": "路面塌陷",
                    "proposed_level": "grid",
                },
                "photo",
                lambda: Request.objects.order_by("-pk").first().photo,
            )
        if kind == "claim":
            rule = make_rule(o.village_x, clerk, name="好人好事", allow_same_day_repeat=True)
            return (
                client_for("rep_a"),
                reverse("points:claim_new", args=[o.household.pk]),
                {"rule": rule.pk, "occurred_on": today, "note": "扶老人过马路"},
                "evidence",
                lambda: Claim.objects.order_by("-pk").first().evidence,
            )
        return (
            client_for("clerk_x"),
            reverse("deliberation:meeting_photo_add", args=[o.meeting.pk]),
            {"caption": "会场"},
            "photo",
            lambda: MeetingPhoto.objects.order_by("-pk").first().image,
        )

    return _target


KINDS = ["visit", "request", "claim", "meeting"]


@pytest.mark.parametrize("kind", KINDS)
def test_gps_and_all_exif_are_stripped_and_the_name_is_generated(kind, upload_to):
    client, url, data, field, stored = upload_to(kind)
    upload = SimpleUploadedFile("../../etc/passwd.jpg", jpeg_with_gps(), "image/jpeg")
    response = client.post(url, {**data, field: upload})
    assert response.status_code == 302, response.content.decode()[:2000]
    photo = stored()
    try:
        assert "passwd" not in photo.name and ".." not in photo.name and "etc" not in photo.name
        assert photo.name.endswith(".jpg")
        with photo.open("rb") as handle:
            raw = handle.read()
        image = Image.open(io.BytesIO(raw))
        assert image.format == "JPEG"
        assert not image.getexif(), "EXIF survived"
        assert "exif" not in image.info
        assert b"PhoneMaker" not in raw and b"GPS" not in raw
    finally:
        photo.delete(save=False)


DISGUISED = {
    "pdf": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
    "html": b"<!doctype html><html><body><script>alert(1)</script></body></html>",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>',
    "exe": b"MZ\x90\x00" + b"\x00" * 200,
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("what", sorted(DISGUISED))
def test_non_images_renamed_jpg_are_refused_in_chinese(kind, what, upload_to):
    client, url, data, field, _stored = upload_to(kind)
    before = table_state()
    upload = SimpleUploadedFile("photo.jpg", DISGUISED[what], "image/jpeg")
    response = client.post(url, {**data, field: upload})
    assert response.status_code in (200, 400)
    body = response.content.decode()
    error = re.search(r"invalid-feedback[^>]*>(.*?)</", body, re.S)
    assert error and CJK.search(error.group(1)), "no Chinese error next to the photo field"
    assert table_state() == before


@pytest.mark.parametrize("kind", ["visit", "claim"])
def test_photo_over_ten_megabytes_is_refused(kind, upload_to):
    client, url, data, field, _stored = upload_to(kind)
    big = png_bytes(1900, 1900, noise=True)
    assert len(big) > 10 * 1024 * 1024
    before = table_state()
    response = client.post(url, {**data, field: SimpleUploadedFile("big.png", big, "image/png")})
    assert response.status_code in (200, 400)
    assert "10MB" in response.content.decode()
    assert table_state() == before


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("side", [10_000, 20_000])
def test_decompression_bomb_is_refused_without_decoding_it(side, upload_to):
    """A tiny PNG that would decode to 100 or 400 million pixels (300 MB–1.2 GB of RAM)."""
    client, url, data, field, _stored = upload_to("visit")
    bomb = png_bytes(side, side)
    assert len(bomb) < 1024 * 1024
    before = table_state()
    response = client.post(url, {**data, field: SimpleUploadedFile("bomb.png", bomb, "image/png")})
    assert response.status_code in (200, 400)
    assert CJK.search(
        re.search(r"invalid-feedback[^>]*>(.*?)</", response.content.decode(), re.S).group(1)
    )
    assert table_state() == before

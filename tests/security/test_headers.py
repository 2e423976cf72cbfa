"""Browser-side protections: enforced CSP with per-response nonces, no framing, cookies, HSTS,
CSRF on every form post, and passbook codes too many to guess."""

from __future__ import annotations

import math
import re

from django.test import Client, override_settings
from django.urls import reverse

from grids.models import PUBLIC_CODE_ALPHABET, PUBLIC_CODE_LENGTH, new_public_code


def test_csp_is_enforced_with_a_fresh_nonce_that_the_page_uses(world, client_for):
    client = client_for("clerk_x")
    first = client.get(reverse("staff:request_list"))
    second = client.get(reverse("staff:request_list"))
    assert "Content-Security-Policy-Report-Only" not in first.headers
    policy = first.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert nonce != re.search(r"'nonce-([^']+)'", second.headers["Content-Security-Policy"]).group(
        1
    )
    body = first.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", body)
    assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts)
    assert " style=" not in body  # no inline style attributes either


def test_pages_cannot_be_framed_or_sniffed(world, client_for):
    response = client_for("anonymous").get(reverse("points:public_lookup"))
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_http_only_and_ends_with_the_browser(world, settings):
    from django.conf import settings as conf

    assert conf.SESSION_COOKIE_HTTPONLY is True
    assert conf.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert conf.SESSION_COOKIE_AGE <= 12 * 3600


def test_hsts_is_sent_when_configured(world):
    with override_settings(SECURE_HSTS_SECONDS=31_536_000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True):
        response = Client().get(reverse("healthz"), secure=True)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_form_posts_without_the_csrf_token_are_refused(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["clerk_x"])
    response = client.post(reverse("points:bulk_award"), {"note": "x"})
    assert response.status_code == 403


def test_passbook_codes_carry_about_59_bits_and_guesses_find_nothing(world, client_for):
    bits = PUBLIC_CODE_LENGTH * math.log2(len(set(PUBLIC_CODE_ALPHABET)))
    assert len(set(PUBLIC_CODE_ALPHABET)) == 31 and PUBLIC_CODE_LENGTH == 12
    assert bits > 59
    codes = {new_public_code() for _ in range(2000)}
    assert len(codes) == 2000 and all(len(c) == 12 for c in codes)
    real = world.obj.household.public_code
    client = client_for("anonymous")
    for guess in list(codes - {real})[:20]:
        assert client.get(reverse("points:public_passbook", args=[guess])).status_code == 404

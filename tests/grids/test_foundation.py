"""Runtime foundations: settings, health, login by phone, PII never in logs, the card page."""

import datetime as dt
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from grids.pii_logging import redact
from grids.services import representative_appoint, representative_end
from tests.factories import ResidentFactory
from tests.grids.qr_matrix import svg_encodes

ROOT = Path(__file__).resolve().parents[2]


def _settings_import(env: dict) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}
    }
    clean.update(env)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        ],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "governance.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_settings_refuse_to_start_without_secret_key():
    result = _settings_import({"DEBUG": "0"})

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_settings_start_with_secret_key():
    result = _settings_import({"DEBUG": "0", "SECRET_KEY": "x" * 50})

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_bad_boolean_in_environment_is_refused():
    result = _settings_import({"DEBUG": "maybe"})

    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


@pytest.mark.django_db
def test_healthz_reports_database(client):
    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
def test_representative_logs_in_with_phone_number(client, representative):
    representative.user.phone = "13912345678"
    representative.user.save()

    ok = client.post(reverse("login"), {"username": "13912345678", "password": "pass-1234-word"})

    assert ok.status_code == 302
    assert client.session.get("_auth_user_id") == str(representative.user.pk)


@pytest.mark.django_db
def test_wrong_password_gets_chinese_message(client, representative):
    response = client.post(
        reverse("login"), {"username": representative.user.username, "password": "nope"}
    )

    assert response.status_code == 200
    assert "密码不正确" in response.content.decode()


def test_log_lines_never_carry_id_numbers_or_phones(caplog):
    from grids.pii_logging import RedactPersonalInformation

    logger = logging.getLogger("tests.pii")
    logger.addFilter(RedactPersonalInformation())
    with caplog.at_level(logging.INFO, logger="tests.pii"):
        logger.info("resident %s phone %s", "43090319700101123X", "13812345678")

    assert "43090319700101123X" not in caplog.text
    assert "13812345678" not in caplog.text
    assert redact("13812345678") == "138****5678"


@pytest.mark.django_db
def test_card_verification_page_shows_validity_and_nothing_personal(client, grid):
    resident = ResidentFactory(household__grid=grid, name="陈腊清", phone="13812345678")
    rep = representative_appoint(
        actor=None,
        resident=resident,
        grid=grid,
        card_number="OJC0001",
        appointed_on=dt.date(2023, 3, 1),
    )

    page = client.get(reverse("grids:card_verify", args=[rep.verify_token])).content.decode()

    assert "陈腊清" in page and "OJC0001" in page and "有效" in page
    assert resident.phone not in page and resident.id_number not in page

    representative_end(actor=None, representative=rep, ended_on=dt.date(2024, 1, 1))
    assert (
        "已离任"
        in client.get(reverse("grids:card_verify", args=[rep.verify_token])).content.decode()
    )


@pytest.mark.django_db
def test_unknown_card_token_is_404(client):
    assert client.get(reverse("grids:card_verify", args=["NOPE"])).status_code == 404


@pytest.mark.django_db
def test_printable_card_carries_qr_code_to_verification_page(login, village_clerk, representative):
    response = login(village_clerk).get(
        reverse("grids:representative_card", args=[representative.pk])
    )

    assert response.status_code == 200
    verify_url = settings.SITE_URL + reverse(
        "grids:card_verify", args=[representative.verify_token]
    )
    svg = re.search(r'<div class="qr">(<svg .*?</svg>)', response.content.decode(), re.S).group(1)
    assert svg_encodes(svg, verify_url)


@pytest.mark.django_db
def test_pages_send_enforced_content_security_policy(client):
    response = client.get(reverse("login"))

    assert "Content-Security-Policy" in response.headers
    assert "script-src 'self' 'nonce-" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_every_page_offers_the_language_switch(client):
    page = client.get(reverse("login")).content.decode()

    assert 'action="/i18n/setlang/"' in page
    assert 'value="en"' in page and "English" in page


def _documented_production_environment() -> dict[str, str]:
    """The ``# production-environment`` block of docs/deployment.md as a dict."""
    text = (ROOT / "docs" / "deployment.md").read_text()
    block = re.search(r"```sh\n# production-environment\n(.*?)```", text, re.S)
    assert block, "docs/deployment.md lost its production-environment block"
    return dict(line.split("=", 1) for line in block.group(1).splitlines() if "=" in line)


def test_check_deploy_reports_nothing_with_the_documented_settings():
    # The browser fixtures set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a server never has it.
    dropped = {"DEBUG", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("SECURE_")}
    documented = _documented_production_environment()
    assert documented["SECRET_KEY"].startswith("<")  # a placeholder, replaced here
    env.update(documented)
    env.update(
        {"DJANGO_SETTINGS_MODULE": "governance.settings", "SECRET_KEY": "k" * 30 + "-9x!Q" * 6}
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout

"""The English catalogue (locale/en) compiles and switches the interface language.

The .mo file is not committed (the Makefile compiles it), so this module compiles it once.
Without gettext's ``msgfmt`` the tests are skipped locally but fail in CI.
"""

import os
import shutil

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import trans_real

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", autouse=True)
def english_catalogue():
    if not shutil.which("msgfmt"):
        message = "gettext's msgfmt is not installed: cannot compile locale/en"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    cwd = os.getcwd()
    os.chdir(settings.BASE_DIR)  # compilemessages also walks the current directory
    try:
        call_command(
            "compilemessages",
            locale=["en"],
            ignore_patterns=[".venv", "node_modules", "var", ".git"],
            verbosity=0,
        )
    finally:
        os.chdir(cwd)
    # A catalogue loaded before the .mo existed would otherwise stay cached in this process.
    trans_real._translations = {}
    trans_real._default = None
    yield
    translation.activate(settings.LANGUAGE_CODE)


def _set_language(client: Client, language: str) -> None:
    response = client.post("/i18n/setlang/", {"language": language, "next": "/"})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == language


def test_catalogue_translates_domain_terms():
    with translation.override("en"):
        assert translation.gettext("登录") == "Log in"
        assert translation.gettext("三事分流") == "Three-way triage"
        assert translation.gettext("积分超市") == "Points shop"
        assert translation.ngettext("%(n)s 户待走访", "%(n)s 户待走访", 2) % {"n": 2} == (
            "2 households to visit"
        )
    with translation.override("zh-hans"):
        assert translation.gettext("登录") == "登录"


def test_login_page_in_english_after_setlang_and_back_to_chinese():
    client = Client()
    _set_language(client, "en")

    page = client.get(reverse("login")).content.decode()
    assert '<html lang="en">' in page
    assert ">Log in</button>" in page
    assert "Household representatives log in with their registered mobile number" in page
    assert "登录" not in page

    _set_language(client, "zh-hans")
    page = client.get(reverse("login")).content.decode()
    assert '<html lang="zh-hans">' in page
    assert ">登录</button>" in page
    assert "Log in" not in page


def test_accept_language_header_selects_english():
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("login")).content.decode()
    assert ">Log in</button>" in page

    page = Client(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").get(reverse("login")).content.decode()
    assert ">登录</button>" in page


def test_representative_pages_in_english(representative, login):
    client = login(representative.user)
    _set_language(client, "en")

    response = client.get("/rep/")
    assert response.status_code == 200
    page = response.content.decode()
    for label in ("My grid", "Visits", "Requests", "Notices"):
        assert f">{label}<" in page, label
    assert "My households" in page
    assert "我的网格" not in page

    _set_language(client, "zh-hans")
    page = client.get("/rep/").content.decode()
    assert ">我的网格<" in page
    assert ">My grid<" not in page


def test_staff_pages_in_english(village_clerk, login):
    client = login(village_clerk)
    _set_language(client, "en")

    response = client.get("/staff/requests/")
    assert response.status_code == 200
    page = response.content.decode()
    for label in ("Triage", "Requests", "Return visit", "Work lists", "Account security"):
        assert f">{label}</a>" in page, label
    assert ">Exit</button>" in page
    assert "分流</a>" not in page

    _set_language(client, "zh-hans")
    page = client.get("/staff/requests/").content.decode()
    assert ">分流</a>" in page
    assert ">Triage</a>" not in page

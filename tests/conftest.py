import os
import shutil

import pytest
from django.db import connection
from django.test import Client

from grids.models import Role
from tests.factories import (
    GridFactory,
    HouseholdFactory,
    TownshipFactory,
    VillageFactory,
    representative_user,
    user_with_scope,
)


@pytest.fixture
def township(db):
    return TownshipFactory(code="430903106", name="欧江岔镇")


@pytest.fixture
def village(township):
    return VillageFactory(township=township, code="430903106201", name="长东湖村")


@pytest.fixture
def other_village(township):
    return VillageFactory(township=township, code="430903106202", name="注湖港村")


@pytest.fixture
def grid(village):
    return GridFactory(village=village, code="430903106201001", name="第一网格")


@pytest.fixture
def other_grid(village):
    return GridFactory(village=village, code="430903106201002", name="第二网格")


@pytest.fixture
def representative(grid):
    return representative_user(grid, households=6)


@pytest.fixture
def village_clerk(village):
    return user_with_scope(Role.VILLAGE_STAFF, village=village, is_staff=True)


@pytest.fixture
def township_staff(township):
    return user_with_scope(Role.TOWNSHIP_STAFF, township=township, is_staff=True)


@pytest.fixture
def stranger(db):
    from tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def login():
    def _login(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def household(grid):
    return HouseholdFactory(grid=grid)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttles and cached pages must not leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield


# --- Browser fixtures (Playwright + Debian's Chromium), one browser per test session ---------
# The browser tests need /usr/bin/chromium (apt package ``chromium``) and ``fonts-noto-cjk``;
# `.ci/run` installs both. Django's live server runs in a thread of the test process.

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's chromium package (see .ci/run)"
        )
    # Playwright's sync API runs an event loop; Django must allow sync DB calls beside it.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-gpu",
                "--no-first-run",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desktop_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def browser_login(live_server):
    """Log ``page`` in through the real login form."""

    def _login(page, username: str, password: str = "pass-1234-word"):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()

    return _login


@pytest.fixture
def ledger_flush_allowed():
    """Let a transactional test's teardown flush the ledger on SQLite.

    PostgreSQL flushes with TRUNCATE, which row triggers do not see; SQLite flushes with DELETE,
    which the append-only trigger rejects. Teardown drops the triggers, empties the ledger and
    recreates them exactly as they were (their SQL is read back from sqlite_master).
    """
    yield
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='trigger' AND tbl_name=%s",
            ["points_ledgerentry"],
        )
        triggers = cursor.fetchall()
        for name, _sql in triggers:
            cursor.execute(f'DROP TRIGGER "{name}"')
        cursor.execute("DELETE FROM points_ledgerentry")
        for _name, sql in triggers:
            cursor.execute(sql)

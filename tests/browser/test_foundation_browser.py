"""A representative signs in on a 360 px phone with their phone number and sees their households."""

import pytest

from grids.models import Role
from tests.factories import GridFactory, VillageFactory, representative_user, user_with_scope

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_representative_logs_in_on_phone_and_sees_households(
    phone_page, live_server, browser_login
):
    grid = GridFactory(village=VillageFactory(name="长东湖村"))
    rep = representative_user(grid, households=7)
    rep.user.phone = "13911112222"
    rep.user.save()

    browser_login(phone_page, "13911112222")
    phone_page.goto(f"{live_server.url}/my/households/")

    assert phone_page.locator(".list-group-item").count() == 7
    # Nothing overflows a 360 px screen.
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360
    phone_page.screenshot(path="var/screenshot-login-phone.png", full_page=True)


def test_login_page_has_no_csp_violations(phone_page, live_server):
    violations = []
    phone_page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )

    phone_page.goto(f"{live_server.url}/accounts/login/")

    assert phone_page.locator("input[name=username]").is_visible()
    assert violations == []


def test_staff_household_list_renders_in_chinese(desktop_page, live_server, browser_login):
    grid = GridFactory(village=VillageFactory(name="注湖港村"))
    representative_user(grid, households=3)
    clerk = user_with_scope(Role.VILLAGE_STAFF, village=grid.village, username="clerk1")

    browser_login(desktop_page, clerk.username)
    desktop_page.goto(f"{live_server.url}/staff/households/")

    assert "注湖港村" in desktop_page.content()

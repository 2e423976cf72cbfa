"""In a real browser: staff redeem two products at the counter; the passbook shows the new balance."""

import pytest

from grids.models import Role
from tests.factories import HouseholdFactory, user_with_scope
from tests.points.factories import fund, make_shop_with_products


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_staff_redeem_two_products_then_passbook_shows_new_balance(
    phone_page, browser_login, live_server, grid, ledger_flush_allowed
):
    clerk = user_with_scope(Role.VILLAGE_STAFF, village=grid.village, username="clerk")
    household = HouseholdFactory(grid=grid, number="0815")
    shop, (rice, soap) = make_shop_with_products(grid.village, clerk)
    fund(household, clerk, 100)
    page = phone_page
    browser_login(page, "clerk")

    page.goto(f"{live_server.url}/points/counter/")
    page.fill("input[name=q]", "0815")
    page.click("button[type=submit]:has-text('查找')")
    page.click("a:has-text('0815')")
    page.fill(f"input[name=qty_{rice.pk}]", "1")
    page.fill(f"input[name=qty_{soap.pk}]", "2")
    page.click("button:has-text('下一步')")
    assert page.inner_text("#total") == "70"
    page.click("button:has-text('确认兑换')")
    page.wait_for_load_state()
    assert "兑换成功" in page.content()

    page.click("a:has-text('查看存折')")
    page.wait_for_load_state()
    assert page.inner_text("#balance") == "30"
    assert "积分超市兑换" in page.inner_text("table")

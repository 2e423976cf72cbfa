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


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_bulk_award_is_recorded_by_one_clerk_and_approved_by_another(
    phone_page, browser, browser_login, live_server, grid, ledger_flush_allowed
):
    from grids.models import Resident
    from points.models import Account
    from tests.conftest import PHONE
    from tests.points.factories import make_rule
    from tests.screenshots import shot

    recorder = user_with_scope(
        Role.VILLAGE_STAFF, village=grid.village, username="li", display_name="李书记"
    )
    user_with_scope(
        Role.VILLAGE_STAFF, village=grid.village, username="wang", display_name="王主任"
    )
    households = []
    for number, head in [("0801", "张三明"), ("0802", "李四海"), ("0803", "赵五娘")]:
        household = HouseholdFactory(grid=grid, number=number)
        household.head = Resident.objects.create(household=household, name=head, relation="户主")
        household.save(update_fields=["head"])
        households.append(household)
    make_rule(grid.village, recorder, code="HJ-01", name="环境整治日", points=5)

    page = phone_page
    browser_login(page, "li")
    page.goto(f"{live_server.url}/points/award/")
    page.select_option("select[name=rule]", label="环境整治 · 环境整治日 +5")
    page.fill("input[name=note]", "清理村道两侧垃圾")
    for household in households:
        page.check(f"input[name=households][value='{household.pk}']")
    page.click("button:has-text('提交审核')")
    page.wait_for_load_state()
    assert "已提交3户的批量申报" in page.content()
    assert not Account.objects.filter(balance__gt=0).exists()

    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, locale="zh-CN"
    )
    other = context.new_page()
    browser_login(other, "wang")
    other.goto(f"{live_server.url}/points/claims/")
    other.click("#batch-queue a:has-text('环境整治日')")
    other.wait_for_load_state()
    other.click("summary:has-text('农户名单')")
    assert other.inner_text("#batch-size") == "3"
    shot(other, "points-batch-decide.png")
    other.click("button:has-text('整批通过并记分')")
    other.wait_for_load_state()
    assert "已为3户记分" in other.content()
    other.goto(f"{live_server.url}/points/households/{households[0].pk}/passbook/")
    assert other.inner_text("#balance") == "5"
    context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_public_board_on_a_phone_lists_the_villages_honours(
    phone_page, live_server, grid, village_clerk
):
    from grids.models import Resident
    from points import services
    from tests.points.factories import held_meeting
    from tests.screenshots import shot

    meeting = held_meeting(grid.village, village_clerk, title="道德评议会")
    for number, head, title, year in [
        ("0901", "张三明", "文明家庭", 2026),
        ("0902", "李四海", "最美庭院", 2026),
        ("0903", "赵五娘", "美丽家园示范户", 2025),
    ]:
        household = HouseholdFactory(grid=grid, number=number)
        household.head = Resident.objects.create(household=household, name=head, relation="户主")
        household.save(update_fields=["head"])
        services.honour_award(
            actor=village_clerk, household=household, title=title, year=year, meeting=meeting
        )

    phone_page.goto(f"{live_server.url}/p/{grid.village.code}/")
    section = phone_page.locator("#board-honours")
    text = section.inner_text()
    assert "张*明" in text and "文明家庭" in text and "美丽家园示范户" in text
    assert "张三明" not in text
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(section, "public-village-honours.png")

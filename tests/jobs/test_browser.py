"""In a real browser: staff start the monthly analysis and read it; the public list on a phone;
the A4 notice-board print. Saves screenshots (tests/screenshots.py)."""

import datetime as dt

import pytest

from grids.models import Role
from points.lists import village_lists_publish
from points.models import ListPolicy, PrizeTier
from tests.factories import user_with_scope
from tests.jobs.data import build_month
from tests.jobs.factories import award, base_points, households_with_heads
from tests.points.factories import make_shop_with_products
from tests.screenshots import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_run_the_monthly_analysis_and_read_the_page(
    desktop_page, browser_login, live_server, village, grid, ledger_flush_allowed
):
    clerk = user_with_scope(Role.VILLAGE_STAFF, village=village, username="clerk", is_staff=True)
    build_month(village, grid, clerk)
    page = desktop_page
    browser_login(page, "clerk")
    page.goto(f"{live_server.url}/staff/reports/")
    page.fill("input[name=month]", "2026-10")
    page.click("button:has-text('开始生成')")
    page.wait_for_load_state()
    # tasks run eagerly in tests: the progress page already shows the finished job
    assert page.inner_text("#job-status") == "已完成"
    page.goto(f"{live_server.url}/staff/reports/")
    page.click(f"a:has-text('{village.name}')")
    page.wait_for_load_state()
    assert "村级一月一分析" in page.content()
    assert page.locator("svg.chart").count() >= 3
    shot(page, "reports-monthly-village.png")


@pytest.fixture
def published_lists(village, grid):
    clerk = user_with_scope(Role.VILLAGE_STAFF, village=village, is_staff=True)
    ListPolicy.objects.create(village=village, red_top_n=5, mask_black_names=True)
    _shop, (mattress, blanket) = make_shop_with_products(
        village, clerk, products=(("床垫", 300, 4), ("毛毯", 100, 10))
    )
    PrizeTier.objects.create(village=village, rank_from=1, rank_to=2, product=mattress)
    PrizeTier.objects.create(village=village, rank_from=3, rank_to=5, product=blanket)
    names = ["李红英", "赵国强", "王美兰", "刘建华", "陈桂芳", "周德明", "张三明", "黄小军"]
    households = households_with_heads(grid, len(names), names=names)
    base_points(village)
    for household, points in zip(households[:6], (90, 75, 60, 60, 45, 20), strict=True):
        award(clerk, [household], points, dt.date(2026, 8, 8))
    award(clerk, households[6:], -10, dt.date(2026, 9, 2), offence=True, name="乱倒垃圾")
    village_lists_publish(village=village, quarter="2026Q3")


def test_public_list_on_a_phone_and_the_a4_print(
    phone_page, browser, live_server, village, published_lists, ledger_flush_allowed
):
    page = phone_page
    page.goto(f"{live_server.url}/p/{village.code}/lists/")
    text = page.inner_text("body")
    assert "红榜" in text and "黑榜" in text and "张*明" in text and "张三明" not in text
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "lists-public-phone.png")

    context = browser.new_context(viewport={"width": 794, "height": 1123}, locale="zh-CN")
    sheet = context.new_page()
    sheet.goto(f"{live_server.url}/p/{village.code}/lists/print/?size=a4")
    sheet.emulate_media(media="print")
    assert sheet.locator(".qr svg").count() == 1
    # the whole code is drawn at the printed size (32 mm ≈ 121 px), square, not cropped: the
    # SVG scales its viewBox into the box the stylesheet gives it
    box = sheet.evaluate(
        """() => {
            const svg = document.querySelector('.qr svg');
            const r = svg.getBoundingClientRect();
            const [, , w, h] = svg.getAttribute('viewBox').split(' ').map(Number);
            return {width: r.width, height: r.height, viewWidth: w, viewHeight: h};
        }"""
    )
    assert abs(box["width"] - 32 / 25.4 * 96) < 2 and abs(box["height"] - box["width"]) < 1
    assert box["viewWidth"] == box["viewHeight"] > 0
    shot(sheet, "lists-print-a4.png")
    context.close()

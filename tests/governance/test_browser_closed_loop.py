"""Headless Chromium at 360×740: a representative's visit becomes a request that goes through
triage, department acknowledgement, resolution and 回访. Staff and the department use their own
browser contexts (their own phones or PCs).

Set UPDATE_SCREENSHOTS=1 to refresh the user-guide screenshots in docs/screenshots/ (tests/screenshots.py).
"""

import datetime as dt

import pytest
from django.utils import timezone

from governance import services
from governance.models import Request, RequestEvent
from grids.models import Household, Role
from grids.services import contact_assign, visit_record
from tests.factories import (
    GridFactory,
    ResidentFactory,
    TownshipFactory,
    VillageFactory,
    representative_user,
    user_with_scope,
)
from tests.governance.factories import DepartmentFactory, department_handler
from tests.screenshots import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}


def phone_context(browser, **kwargs):
    return browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        **kwargs,
    )


def login(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass-1234-word")
    page.click("button[type=submit]")
    page.wait_for_load_state()


def village_with_people():
    township = TownshipFactory(code="431321105", name="水车镇")
    village = VillageFactory(township=township, code="431321105201", name="锡溪村")
    grid = GridFactory(village=village, code="431321105201001", name="第一网格")
    rep = representative_user(grid, households=0)
    rep.user.phone = "13800000001"
    rep.user.display_name = rep.resident.name
    rep.user.save()
    names = ["李秀英", "王建国", "张桂兰", "刘德明", "陈淑芬", "杨志强"]
    tags = [["独居老人"], [], ["留守儿童"], [], ["低保"], []]
    for i, (name, tag) in enumerate(zip(names, tags, strict=True)):
        household = Household.objects.create(
            village=village,
            grid=grid,
            number=f"01-{i + 1:03d}",
            representative=rep,
            tags=tag,
            priority=bool(tag),
        )
        head = ResidentFactory(household=household, name=name)
        household.head = head
        household.save()
    clerk = user_with_scope(
        Role.VILLAGE_STAFF, village=village, username="cunwei", display_name="村委·周会计"
    )
    # 包网格: the clerk answers for the grid, shown on the staff landing.
    contact_assign(
        actor=clerk, cadre=clerk, village=village, grid=grid, started_on=dt.date(2024, 3, 1)
    )
    services.work_list_publish(
        actor=clerk,
        village=village,
        month=timezone.localdate(),
        items=[("宣传城乡居民医保缴费", None, True), ("清理网格内沟渠垃圾", None, False)],
    )
    department = DepartmentFactory(township=township, name="农业农村办")
    handler = department_handler(department, username="nongban", display_name="农业农村办·谭干事")
    return rep, clerk, department, handler


def test_visit_to_request_through_triage_acknowledgement_resolution_and_return_visit(
    browser, live_server
):
    rep, clerk, department, handler = village_with_people()
    # Two earlier visits, so the home page shows days since the last one.
    households = list(rep.households.order_by("number"))
    for days, household in ((2, households[1]), (12, households[3])):
        visit_record(
            actor=rep.user,
            representative=rep,
            household=household,
            method="in_person",
            visited_at=timezone.now() - dt.timedelta(days=days),
        )

    # Two requests already waiting in the triage queue.
    services.request_report(
        actor=rep.user, household=households[0], title="门前路灯不亮", proposed_level="grid"
    )
    services.request_report(
        actor=rep.user,
        household=households[4],
        title="邻里宅基地边界纠纷",
        kind="dispute",
        dispute_parties="陈某、杨某",
        proposed_level="village",
    )

    # --- the representative, on a phone -------------------------------------------------------
    # The phone shares its location (锡溪村, 新化县) when the representative ticks the box.
    rep_context = phone_context(
        browser,
        permissions=["geolocation"],
        geolocation={"latitude": 27.7321, "longitude": 111.3297},
    )
    page = rep_context.new_page()
    csp_violations = []
    page.on(
        "console",
        lambda msg: (
            csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )
    login(page, live_server, "13800000001")
    assert page.url.endswith("/rep/")
    assert page.locator("#households .list-group-item").first.inner_text().startswith("01-001")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "rep-home.png")

    page.click("text=记录走访")
    page.select_option("select[name=household]", label="01-003 张*兰 留守儿童")
    page.check("input[name=method][value=in_person]")
    page.fill("textarea[name=note]", "孩子奶奶说灌溉渠堵了，田里进不了水")
    page.check("#use-location")
    page.wait_for_function("document.getElementById('id_latitude').value !== ''")
    shot(page, "rep-visit-form.png")
    page.click("text=保存走访")
    page.wait_for_load_state()
    assert "走访已记录" in page.content()

    page.click("text=登记诉求/咨询")
    page.fill("input[name=title]", "灌溉渠堵塞")
    page.fill("textarea[name=description]", "三组水渠约50米被淤泥堵塞")
    page.check("input[name=proposed_level][value=township]")
    page.click("button:has-text('提交')")
    page.wait_for_load_state()
    assert "灌溉渠堵塞" in page.content()
    request = Request.objects.get(title="灌溉渠堵塞")
    assert str(request.source_visit.latitude) == "27.732100"
    shot(page, "rep-visit-done.png")
    assert request.source_visit is not None and request.status == Request.Status.REPORTED

    # --- the village clerk triages, at the village office PC and on a phone ------------------
    desk_context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    desk = desk_context.new_page()
    login(desk, live_server, "cunwei")
    desk.goto(f"{live_server.url}/staff/triage/")
    assert desk.locator("#request-table tbody tr").count() == 3
    assert "锡溪村·第一网格" in desk.inner_text(".my-contacts")
    shot(desk, "staff-triage-queue.png")
    desk.click("text=灌溉渠堵塞")
    desk.check("input[name=level][value=township]")
    desk.select_option("select[name=department]", label="农业农村办")
    shot(desk, "staff-triage-form.png")
    desk_context.close()

    staff_context = phone_context(browser)
    staff = staff_context.new_page()
    login(staff, live_server, "cunwei")
    staff.goto(f"{live_server.url}/staff/triage/")
    assert "灌溉渠堵塞" in staff.content()
    assert staff.evaluate("document.documentElement.scrollWidth") <= 360
    staff.click("text=灌溉渠堵塞")
    staff.check("input[name=level][value=township]")
    staff.select_option("select[name=department]", label="农业农村办")
    staff.click("text=确认分流")
    staff.wait_for_load_state()
    request.refresh_from_db()
    assert request.status == Request.Status.TRIAGED and request.department == department

    # --- the department acknowledges, handles and resolves ------------------------------------
    dept_context = phone_context(browser)
    dept = dept_context.new_page()
    login(dept, live_server, "nongban")
    dept.goto(f"{live_server.url}/staff/")
    assert dept.url.endswith("/staff/department/")
    dept.click("text=灌溉渠堵塞")
    shot(dept, "department-acknowledge.png")
    dept.click("button:has-text('报到')")
    dept.wait_for_load_state()
    dept.click("button:has-text('开始办理')")
    dept.wait_for_load_state()
    dept.fill("form[action$='/resolve/'] textarea[name=note]", "已组织清淤，水渠恢复通水")
    dept.click("button:has-text('办结')")
    dept.wait_for_load_state()
    request.refresh_from_db()
    assert request.status == Request.Status.RESOLVED

    # --- back on the representative's phone: 回访 ---------------------------------------------
    page.goto(f"{live_server.url}/rep/requests/{request.pk}/")
    assert "已组织清淤" in page.content()
    shot(page, "rep-request-return-visit.png")
    page.check("input[name=satisfaction][value=satisfied]")
    page.fill("form[action$='/return_visit/'] textarea[name=note]", "奶奶说水通了")
    page.click("text=保存回访")
    page.wait_for_load_state()
    assert "已关闭" in page.content()

    request.refresh_from_db()
    assert request.status == Request.Status.CLOSED and request.satisfaction == "satisfied"
    actions = list(
        RequestEvent.objects.filter(request=request).order_by("id").values_list("action", flat=True)
    )
    assert actions == ["report", "triage", "acknowledge", "start", "resolve", "return_visit"]
    assert csp_violations == []
    for context in (rep_context, staff_context, dept_context):
        context.close()


def test_visit_form_works_without_javascript(browser, live_server):
    rep, *_ = village_with_people()
    context = phone_context(browser, java_script_enabled=False)
    page = context.new_page()
    login(page, live_server, "13800000001")
    page.goto(f"{live_server.url}/rep/visits/new/")
    # The location checkbox needs JavaScript, so it stays hidden.
    assert not page.locator("#use-location").is_visible()

    page.check("input[name=method][value=phone]")
    page.fill("textarea[name=note]", "电话询问身体情况")
    page.click("text=保存走访")
    page.wait_for_load_state()
    assert "请选择农户" in page.content()
    # What was typed is still there after the failed submit.
    assert page.input_value("textarea[name=note]") == "电话询问身体情况"
    assert page.is_checked("input[name=method][value=phone]")

    page.select_option("select[name=household]", index=1)
    page.click("text=保存走访")
    page.wait_for_load_state()
    assert "走访已记录" in page.content()
    visit = rep.visits.get()
    assert visit.method == "phone" and visit.note == "电话询问身体情况"
    assert visit.latitude is None
    context.close()


def test_phone_pages_stay_under_100_kb(browser, live_server):
    """HTML, CSS and JS transferred for the home page and the visit form, photos excluded."""
    village_with_people()
    context = phone_context(browser)
    page = context.new_page()
    login(page, live_server, "13800000001")
    for path in ("/rep/", "/rep/visits/new/", "/rep/requests/new/"):
        # A fresh page per path, so that nothing is served from the previous page's cache.
        measured = context.new_page()
        sizes = []
        measured.on("response", lambda response, sizes=sizes: sizes.append(len(response.body())))
        measured.goto(f"{live_server.url}{path}")
        measured.wait_for_load_state("networkidle")
        total = sum(sizes)
        assert 0 < total < 100 * 1024, f"{path}: {total} bytes"
        assert measured.evaluate("document.documentElement.scrollWidth") <= 360, path
        measured.close()
    context.close()

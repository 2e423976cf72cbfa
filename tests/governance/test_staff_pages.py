"""Staff pages: triage, department queue, 督办, 回访, duplicates, filters and exports."""

import csv
import datetime as dt
import io

from django.urls import reverse
from openpyxl import load_workbook

from governance import services
from governance.models import CatalogueItem, Request, Supervision
from grids import services as grid_services
from grids.models import Role
from tests.factories import ResidentFactory, user_with_scope
from tests.governance.factories import (
    RequestCategoryFactory,
    in_progress,
    report,
    resolved,
    triaged,
)

S = Request.Status


def action(pk, name):
    return reverse("staff:request_action", args=[pk, name])


def test_triage_queue_shows_the_clerks_own_contacts(village_clerk, township_staff, grid, login):
    """Given a clerk who 包网格 a grid, when they open the staff landing, then 我包联的村/网格
    names that grid (and a clerk without assignments sees no such box)."""
    grid_services.contact_assign(
        actor=township_staff,
        cadre=village_clerk,
        village=grid.village,
        grid=grid,
        started_on=dt.date(2024, 3, 1),
    )
    page = login(village_clerk).get(reverse("staff:triage_queue")).content.decode()
    assert "我包联的村/网格" in page and f"{grid.village.name}·{grid.name}" in page
    other = user_with_scope(Role.VILLAGE_STAFF, village=grid.village, is_staff=True)
    assert "我包联的村/网格" not in login(other).get(reverse("staff:triage_queue")).content.decode()


def test_triage_queue_lists_reported_and_triage_assigns_department(
    representative, village_clerk, department, login
):
    request = report(representative, proposed_level="township", title="水渠垮塌")
    client = login(village_clerk)
    page = client.get(reverse("staff:triage_queue")).content.decode()
    assert "水渠垮塌" in page
    response = client.post(
        action(request.pk, "triage"), {"level": "township", "department": department.pk}
    )
    assert response.url == reverse("staff:triage_queue")
    request.refresh_from_db()
    assert request.status == S.TRIAGED and request.department == department


def test_triage_to_township_without_department_keeps_choice_and_shows_error(
    representative, village_clerk, login
):
    request = report(representative)
    response = login(village_clerk).post(
        action(request.pk, "triage"), {"level": "township", "note": "需要镇里协调"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "政事必须指定承办部门" in html and "需要镇里协调" in html
    request.refresh_from_db()
    assert request.status == S.REPORTED


def test_village_triage_must_cite_catalogue_item_and_never_burden_relief(
    representative, village_clerk, township, township_staff, login
):
    burden = services.catalogue_item_add(
        actor=township_staff,
        township=township,
        list_kind=CatalogueItem.ListKind.BURDEN_RELIEF,
        code="J-01",
        title="代收各类费用",
    )
    allowed = services.catalogue_item_add(
        actor=township_staff,
        township=township,
        list_kind=CatalogueItem.ListKind.SELF_GOVERNANCE,
        code="Z-01",
        title="村内道路管护",
    )
    request = report(representative)
    client = login(village_clerk)
    response = client.post(action(request.pk, "triage"), {"level": "village"})
    assert "三个清单" in response.content.decode()
    # The form offers only assignable items; the service refuses 减负 even if posted directly.
    response = client.post(
        action(request.pk, "triage"), {"level": "village", "catalogue_item": burden.pk}
    )
    assert response.status_code == 400
    request.refresh_from_db()
    assert request.status == S.REPORTED
    client.post(action(request.pk, "triage"), {"level": "village", "catalogue_item": allowed.pk})
    request.refresh_from_db()
    assert request.status == S.TRIAGED and request.catalogue_item == allowed


def test_department_queue_shows_only_own_requests(
    representative, village_clerk, department, other_department, handler, login
):
    mine = triaged(
        representative, village_clerk, level="township", department=department, title="我的"
    )
    theirs = triaged(
        representative, village_clerk, level="township", department=other_department, title="别人的"
    )
    client = login(handler)
    response = client.get(reverse("staff:department_queue"))
    assert [r.pk for r in response.context["page"]] == [mine.pk]
    assert client.get(reverse("staff:request_detail", args=[theirs.pk])).status_code == 404
    assert client.post(action(theirs.pk, "acknowledge"), {}).status_code == 404


def test_department_acknowledges_handles_resolves(
    representative, village_clerk, department, handler, login
):
    request = triaged(representative, village_clerk, level="township", department=department)
    client = login(handler)
    client.post(action(request.pk, "acknowledge"), {"note": ""})
    client.post(action(request.pk, "start"))
    client.post(action(request.pk, "resolve"), {"note": "已修复"})
    request.refresh_from_db()
    assert request.status == S.RESOLVED and request.resolved_level == "township"


def test_department_returns_with_reason(representative, village_clerk, department, handler, login):
    request = triaged(representative, village_clerk, level="township", department=department)
    response = login(handler).post(action(request.pk, "return"), {"note": ""})
    assert "请填写退回理由" in response.content.decode()
    login(handler).post(action(request.pk, "return"), {"note": "属于民政办"})
    request.refresh_from_db()
    assert request.status == S.REPORTED and request.department is None


def test_supervision_note_visible_to_handler(
    representative, village_clerk, township_staff, department, handler, login
):
    request = triaged(representative, village_clerk, level="township", department=department)
    login(township_staff).post(action(request.pk, "supervise"), {"note": "请加快办理"})
    assert Supervision.objects.get().note == "请加快办理"
    page = login(handler).get(reverse("staff:request_detail", args=[request.pk])).content.decode()
    assert "请加快办理" in page


def test_village_clerk_has_no_supervision_page(village_clerk, login):
    assert login(village_clerk).get(reverse("staff:supervision_list")).status_code == 403


def test_return_visit_queue_and_unsatisfied_reopens(representative, village_clerk, login):
    request = resolved(representative, village_clerk)
    client = login(village_clerk)
    queue = client.get(reverse("staff:return_visit_queue"))
    assert [r.pk for r in queue.context["page"]] == [request.pk]
    client.post(
        action(request.pk, "return_visit"), {"satisfaction": "unsatisfied", "note": "没修好"}
    )
    request.refresh_from_db()
    assert request.status == S.IN_PROGRESS


def test_mark_duplicate_by_number(representative, village_clerk, login):
    original = report(representative, title="原件")
    copy = report(representative, title="重复件")
    client = login(village_clerk)
    response = client.post(action(copy.pk, "duplicate"), {"original": 999999})
    assert "找不到该编号的诉求" in response.content.decode()
    client.post(action(copy.pk, "duplicate"), {"original": original.pk})
    copy.refresh_from_db()
    assert copy.duplicate_of == original
    listed = client.get(reverse("staff:duplicate_list")).context["page"]
    assert [r.pk for r in listed] == [copy.pk]


def test_village_clerk_cannot_open_other_villages_request(other_village, representative, login):
    foreign_clerk = user_with_scope(Role.VILLAGE_STAFF, village=other_village)
    request = report(representative)
    client = login(foreign_clerk)
    assert client.get(reverse("staff:request_detail", args=[request.pk])).status_code == 404
    assert client.post(action(request.pk, "triage"), {"level": "grid"}).status_code == 404


def test_representative_cannot_use_staff_pages(representative, login):
    client = login(representative.user)
    assert client.get(reverse("staff:triage_queue")).status_code == 403
    assert client.get(reverse("staff:request_list")).status_code == 403


def test_filters_by_status_level_category_and_overdue(
    representative, village_clerk, township, login
):
    roads = RequestCategoryFactory(township=township, name="道路")
    a = report(representative, title="甲", category=roads)
    b = triaged(representative, village_clerk, level="village", title="乙")
    Request.objects.filter(pk=b.pk).update(deadline="2020-01-01T00:00:00Z")
    client = login(village_clerk)

    def listed(**params):
        response = client.get(reverse("staff:request_list"), params)
        return {r.pk for r in response.context["page"]}

    assert listed() == {a.pk, b.pk}
    assert listed(status="reported") == {a.pk}
    assert listed(level="village") == {b.pk}
    assert listed(category=roads.pk) == {a.pk}
    assert listed(overdue="on") == {b.pk}
    assert listed(q="乙") == {b.pk}
    assert listed(q=f"#{a.pk}") == {a.pk}
    assert listed(village=representative.grid.village_id, grid=representative.grid_id) == {
        a.pk,
        b.pk,
    }


def test_csv_and_xlsx_exports_follow_filters_and_mask_personal_information(
    representative, village_clerk, login
):
    resident = representative.resident
    household = representative.households.first()
    ResidentFactory(household=household, name="赵大明", phone="13912345678")
    report(representative, title="电话13912345678反映路灯", description="身份证430903197001010011")
    report(representative, title="另一件", kind="consultation")
    client = login(village_clerk)

    response = client.get(reverse("staff:request_export", args=["csv"]), {"kind": "request"})
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "编号" and len(rows) == 2
    assert "13912345678" not in text and "139****5678" in text
    assert "430903197001010011" not in text
    assert resident.name not in text and resident.masked_name in text

    response = client.get(reverse("staff:request_export", args=["xlsx"]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert len(values) == 3
    flat = " ".join(str(v) for row in values for v in row)
    assert "13912345678" not in flat and "赵大明" not in flat


def test_notice_coverage_counts_confirmed_households(representative, village_clerk, login):
    notice = services.notice_publish(
        actor=village_clerk, title="秸秆禁烧", body="不得焚烧", village=representative.grid.village
    )
    for household in representative.households.order_by("pk")[:2]:
        services.notice_confirm(actor=representative.user, notice=notice, household=household)
    page = login(village_clerk).get(reverse("staff:notice_list"))
    row = page.context["page"][0]
    village_households = representative.grid.village.households.count()
    assert village_households == 7  # six linked households and the representative's own
    assert (row.delivered, row.target_village) == (2, village_households)


def test_village_clerk_publishes_notice_from_page(village_clerk, village, login):
    client = login(village_clerk)
    response = client.post(reverse("staff:notice_list"), {"title": "", "body": "内容"})
    assert "请填写标题" in response.content.decode()
    client.post(
        reverse("staff:notice_list"), {"title": "通知", "body": "内容", "village": village.pk}
    )
    assert village.notices.count() == 1


def test_staff_index_sends_department_handler_to_queue(handler, village_clerk, login):
    assert login(handler).get(reverse("staff:index")).url == reverse("staff:department_queue")
    assert login(village_clerk).get(reverse("staff:index")).url == reverse("staff:triage_queue")


def test_in_progress_request_detail_renders_for_each_role(
    representative, village_clerk, township_staff, department, handler, login
):
    request = in_progress(
        representative, village_clerk, level="township", department=department, handler=handler
    )
    for user in (village_clerk, township_staff, handler):
        response = login(user).get(reverse("staff:request_detail", args=[request.pk]))
        assert response.status_code == 200


def test_service_day_lists_open_orders_per_representative(
    representative, other_rep, village_clerk, login
):
    import datetime as dt

    from governance.selectors import next_service_day

    report(representative, kind="service_order", title="理发")
    report(other_rep, kind="service_order", title="修电视")
    report(representative, title="不是点单")
    response = login(village_clerk).get(reverse("staff:service_day"))
    groups = response.context["groups"]
    assert [[o.title for o in g.orders] for g in groups] == [["理发"], ["修电视"]]
    assert [g.representative for g in groups] == [representative, other_rep]
    # First Monday of the month, or of next month once it has passed.
    assert next_service_day(dt.date(2026, 11, 1)) == dt.date(2026, 11, 2)
    assert next_service_day(dt.date(2026, 11, 3)) == dt.date(2026, 12, 7)
    assert next_service_day(dt.date(2026, 12, 8)) == dt.date(2027, 1, 4)


def test_work_list_published_from_page_keeps_input_on_error(village_clerk, village, login):
    client = login(village_clerk)
    management = {"form-TOTAL_FORMS": "2", "form-INITIAL_FORMS": "0"}
    response = client.post(
        reverse("staff:work_lists"),
        {"village": village.pk, "month": "", "form-0-title": "宣传防溺水", **management},
    )
    html = response.content.decode()
    assert "请选择月份" in html and "宣传防溺水" in html
    client.post(
        reverse("staff:work_lists"),
        {
            "village": village.pk,
            "month": "2026-11",
            "form-0-title": "宣传防溺水",
            "form-0-per_household": "on",
            "form-1-title": "清理沟渠",
            **management,
        },
    )
    work_list = village.work_lists.get()
    assert [(i.title, i.per_household) for i in work_list.items.order_by("id")] == [
        ("宣传防溺水", True),
        ("清理沟渠", False),
    ]


def test_department_queue_marks_supervised_requests(
    representative, village_clerk, township_staff, department, handler, login
):
    request = triaged(representative, village_clerk, level="township", department=department)
    services.supervision_add(actor=township_staff, request=request, note="请尽快报到")
    services.supervision_add(actor=township_staff, request=request, note="再次督办")
    response = login(handler).get(reverse("staff:department_queue"))
    assert response.context["page"][0].supervision_count == 2
    assert "督办 2" in response.content.decode()

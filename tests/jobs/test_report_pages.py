"""Report pages: bad periods, the township choice, live list sizes, audited exports, languages."""

import datetime as dt
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from governance import analysis, jobs
from grids.models import AuditEntry, Role
from points.lists import list_entry_withdraw, objection_decide, objection_record
from points.models import ListPublication
from tests.factories import TownshipFactory, UserFactory, VillageFactory, user_with_scope
from tests.jobs.data import build_month
from tests.jobs.factories import award, households_with_heads

OCT = dt.date(2026, 10, 1)
DAY = dt.date(2026, 8, 10)


@pytest.fixture
def superuser(db):
    return UserFactory(is_superuser=True, is_staff=True)


@pytest.fixture
def second_township(db):
    """Another township with one village and its own October summary."""
    other = TownshipFactory(code="430903107", name="新河镇")
    VillageFactory(township=other, code="430903107201", name="河口村")
    return other


@pytest.fixture
def analysed(village, grid, village_clerk, township, second_township):
    build_month(village, grid, village_clerk)
    analysis.monthly_analysis_run(month=OCT)


# --- bad periods: a clear 404, never a 500 --------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/staff/reports/monthly/0000-01/township/",
        "/staff/reports/monthly/9999-12/township/",
        "/staff/reports/quarterly/0000Q1/",
        "/staff/reports/quarterly/9999Q4/",
    ],
)
def test_a_year_out_of_range_in_the_address_is_a_404_that_says_why(url, township_staff, login):
    response = login(township_staff).get(url)
    assert response.status_code == 404
    assert "年份超出范围" in response.content.decode()


def test_a_village_page_for_year_0000_is_a_404_that_says_why(village, village_clerk, login):
    url = reverse("staff:monthly_village", args=["0000-01", village.pk])
    response = login(village_clerk).get(url)
    assert response.status_code == 404 and "年份超出范围" in response.content.decode()


def test_a_malformed_quarter_is_a_404_that_says_the_format(township_staff, login):
    response = login(township_staff).get(reverse("staff:quarterly_review", args=["2026Q5"]))
    assert response.status_code == 404 and "YYYYQn" in response.content.decode()


def test_starting_the_lists_for_year_0000_is_refused_with_a_message(village_clerk, login):
    from governance.models import JobRun

    response = login(village_clerk).post(
        reverse("staff:reports_run"), {"kind": "lists", "quarter": "0000Q1"}, follow=True
    )
    assert "年份超出范围" in response.content.decode()
    assert not JobRun.objects.exists()


# --- several townships: a choice, validated -------------------------------------------------


def test_superuser_reads_the_quarterly_review_of_a_chosen_township(
    analysed, superuser, login, township, second_township, village
):
    client = login(superuser)
    url = reverse("staff:quarterly_review", args=["2026Q4"])
    # given two townships, when a superuser opens the review, then it is the first by code
    first = client.get(url)
    assert first.status_code == 200
    body = first.content.decode()
    assert township.name in body and village.name in body and 'name="township"' in body
    # and ?township=<code> chooses the other
    chosen = client.get(url, {"township": second_township.code}).content.decode()
    assert "河口村" in chosen and village.name not in chosen
    assert client.get(url, {"township": "999999999"}).status_code == 404


def test_superuser_reads_the_monthly_summary_of_a_chosen_township(
    analysed, superuser, login, township, second_township
):
    client = login(superuser)
    url = reverse("staff:monthly_township", args=["2026-10"])
    assert township.name in client.get(url).content.decode()
    chosen = client.get(url, {"township": second_township.code}).content.decode()
    assert second_township.name in chosen and "河口村" in chosen
    assert client.get(url, {"township": "x"}).status_code == 404


def test_township_staff_cannot_choose_another_township(
    analysed, township_staff, login, second_township
):
    client = login(township_staff)
    for url in (
        reverse("staff:quarterly_review", args=["2026Q4"]),
        reverse("staff:monthly_township", args=["2026-10"]),
    ):
        assert client.get(url, {"township": second_township.code}).status_code == 404
        assert 'name="township"' not in client.get(url).content.decode()  # no choice to make


# --- the stored review shows the current list sizes -----------------------------------------


@pytest.fixture
def reviewed(village, grid, village_clerk, township):
    a, b, c = households_with_heads(grid, 3)
    award(village_clerk, [a, b, c], 30, DAY)
    jobs.run_lists({"quarter": "2026Q3"})
    return ListPublication.objects.get(village=village, quarter="2026Q3")


def red_list_size(client, village) -> int:
    url = reverse("staff:quarterly_review", args=["2026Q3"])
    rows = list(load_workbook(BytesIO(client.get(url, {"format": "xlsx"}).content)).active.values)
    column = rows[0].index("红榜户数")
    return next(r[column] for r in rows[1:] if r[1] == village.name)


def test_review_shows_the_list_size_after_an_entry_is_withdrawn(
    reviewed, village, village_clerk, township_staff, login
):
    client = login(township_staff)
    assert red_list_size(client, village) == 3
    list_entry_withdraw(actor=village_clerk, entry=reviewed.entries.first(), reason="积分有误")
    assert red_list_size(client, village) == 2


def test_review_shows_the_list_size_after_an_objection_is_upheld(
    reviewed, village, village_clerk, township_staff, login
):
    objection = objection_record(actor=village_clerk, entry=reviewed.entries.first(), text="代记")
    objection_decide(actor=village_clerk, objection=objection, upheld=True, decision="属实")
    assert red_list_size(login(township_staff), village) == 2


# --- the report area has no 诉求 bar ------------------------------------------------------------


def test_report_pages_do_not_show_the_request_area_bar(
    analysed, village, village_clerk, township_staff, login
):
    """月度分析 is an area of the main bar: its pages carry no 诉求办理 bar (分流, 全部诉求…), which
    the request pages keep."""
    from governance.models import JobRun

    job = JobRun.objects.create(
        kind=JobRun.Kind.MONTHLY,
        key="monthly:2026-10",
        params={"village": village.code},
        requested_by=village_clerk,
    )
    clerk, town = login(village_clerk), login(township_staff)
    pages = [
        (clerk, reverse("staff:reports"), 200),
        (clerk, reverse("staff:monthly_village", args=["2026-10", village.pk]), 200),
        (clerk, reverse("staff:monthly_village", args=["2025-01", village.pk]), 404),
        (clerk, reverse("staff:job_detail", args=[job.pk]), 200),
        (town, reverse("staff:monthly_township", args=["2026-10"]), 200),
        (town, reverse("staff:quarterly_review", args=["2026Q4"]), 200),
    ]
    for client, url, status in pages:
        response = client.get(url)
        assert response.status_code == status, url
        assert "staff-subnav" not in response.content.decode(), url
    assert "staff-subnav" in clerk.get(reverse("staff:triage_queue")).content.decode()


# --- exports are audited ----------------------------------------------------------------------


def test_every_report_export_leaves_an_audit_row(
    analysed, village, village_clerk, township_staff, township, login
):
    clerk, town = login(village_clerk), login(township_staff)
    clerk.get(reverse("staff:monthly_village", args=["2026-10", village.pk]), {"format": "xlsx"})
    town.get(reverse("staff:monthly_township", args=["2026-10"]), {"format": "xlsx"})
    town.get(reverse("staff:quarterly_review", args=["2026Q4"]), {"format": "xlsx"})
    town.get(reverse("staff:quarterly_review", args=["2026Q4"]))  # a page view is not an export
    rows = list(
        AuditEntry.objects.filter(action="report.export")
        .order_by("pk")
        .values_list("actor_id", "object_type", "object_id", "village_id", "after")
    )
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        (village_clerk.pk, "grids.village", str(village.pk), village.pk),
        (township_staff.pk, "grids.township", str(township.pk), None),
        (township_staff.pk, "grids.township", str(township.pk), None),
    ]
    assert [(r[4]["report"], r[4]["period"]) for r in rows] == [
        ("monthly", "2026-10"),
        ("monthly", "2026-10"),
        ("quarterly", "2026Q4"),
    ]
    assert all(r[4]["rows"] > 0 for r in rows)


def test_report_export_is_recorded_by_the_governance_service(village, township, village_clerk):
    """The audit row is a write: it lives with the other writes in governance.services."""
    from governance import services

    entry = services.report_export_record(
        actor=village_clerk, report="monthly", period="2026-10", place=village, rows=3
    )
    assert (entry.action, entry.actor_id, entry.village_id) == (
        "report.export",
        village_clerk.pk,
        village.pk,
    )
    assert entry.after == {"report": "monthly", "period": "2026-10", "rows": 3}
    town = services.report_export_record(
        actor=village_clerk, report="quarterly", period="2026Q4", place=township, rows=1
    )
    assert (town.object_type, town.village_id) == ("grids.township", None)
    assert not hasattr(jobs, "report_export_record")


# --- labels follow the request's language -----------------------------------------------------


def test_review_columns_and_level_labels_follow_the_language_of_the_request(
    analysed, township_staff, login
):
    from governance.views_reports import LEVEL_LABELS

    url = reverse("staff:quarterly_review", args=["2026Q4"])
    english = login(township_staff).get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<th>Rank</th>" in english
    chinese = login(township_staff).get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "<th>名次</th>" in chinese
    with translation.override("en"):
        assert str(LEVEL_LABELS["untriaged"]) == "Not triaged"


def test_a_village_clerk_never_sees_the_township_pages(village_clerk, login, analysed):
    client = login(village_clerk)
    assert client.get(reverse("staff:quarterly_review", args=["2026Q4"])).status_code == 404
    other = user_with_scope(Role.TOWNSHIP_STAFF, township=TownshipFactory(code="430903999"))
    assert login(other).get(reverse("staff:monthly_township", args=["2026-10"])).status_code == 404

"""Report pages, exports, the public red/black list and its prints: content, scope, query counts."""

import datetime as dt
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from governance import analysis
from governance.models import JobRun
from grids.models import Role
from points.lists import list_entry_withdraw, village_lists_publish
from points.models import ListPolicy
from tests.factories import ResidentFactory, TownshipFactory, VillageFactory, user_with_scope
from tests.jobs.data import build_month
from tests.jobs.factories import award, base_points, households_with_heads

OCT = dt.date(2026, 10, 1)
DAY = dt.date(2026, 8, 10)


@pytest.fixture
def analysed(village, grid, village_clerk, township):
    handles = build_month(village, grid, village_clerk)
    analysis.monthly_analysis_run(month=OCT)
    return handles


def test_village_page_shows_figures_charts_and_people(analysed, login, village_clerk, village):
    url = reverse("staff:monthly_village", args=["2026-10", village.pk])
    body = login(village_clerk).get(url).content.decode()
    assert body.count("<svg") >= 3
    assert "热点诉求类别" in body and "道路" in body
    assert "红旗网格员" in body and analysed["rep_b"].resident.name in body
    assert "本月未走访的代表" in body and analysed["rep_idle"].resident.name in body
    assert "style=" not in body and "<script>" not in body


def test_township_page_and_excel_export_of_every_table(analysed, login, township_staff):
    client = login(township_staff)
    url = reverse("staff:monthly_township", args=["2026-10"])
    assert "各村对比" in client.get(url).content.decode()
    response = client.get(url + "?format=xlsx")
    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == ["主要指标", "诉求分类", "红旗网格员", "本月未走访的代表", "各村对比"]
    rows = list(book["主要指标"].values)
    assert rows[0] == ("指标", "本月", "较上月")
    assert ("走访次数", 4, 2) in rows


def test_other_townships_reports_are_404(analysed, login, village):
    elsewhere = TownshipFactory(code="430903999")
    outsider = user_with_scope(Role.TOWNSHIP_STAFF, township=elsewhere, is_staff=True)
    VillageFactory(township=elsewhere, code="430903999201")
    client = login(outsider)
    assert (
        client.get(reverse("staff:monthly_village", args=["2026-10", village.pk])).status_code
        == 404
    )
    assert client.get(reverse("staff:monthly_township", args=["2026-10"])).status_code == 404


def test_monthly_page_query_count_is_pinned(
    analysed, login, village_clerk, village, django_assert_max_num_queries
):
    client = login(village_clerk)
    url = reverse("staff:monthly_village", args=["2026-10", village.pk])
    client.get(url)
    with django_assert_max_num_queries(8):
        assert client.get(url).status_code == 200


def test_staff_trigger_queues_a_job_and_the_progress_page_refreshes(
    village, grid, village_clerk, login, django_capture_on_commit_callbacks
):
    client = login(village_clerk)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            reverse("staff:reports_run"), {"kind": "monthly", "month": "2026-10"}
        )
    job = JobRun.objects.get()
    assert job.key == f"monthly:2026-10:{village.code}" and job.params["village"] == village.code
    page = client.get(response.url).content.decode()
    assert '<meta http-equiv="refresh" content="3">' in page
    JobRun.objects.filter(pk=job.pk).update(status="done")
    assert "http-equiv" not in client.get(response.url).content.decode()


def test_staff_trigger_rejects_a_bad_month(village_clerk, login):
    response = login(village_clerk).post(
        reverse("staff:reports_run"), {"kind": "monthly", "month": "2026-13"}, follow=True
    )
    assert "月份格式应为" in response.content.decode()
    assert not JobRun.objects.exists()


@pytest.fixture
def published(village, grid, village_clerk):
    ListPolicy.objects.create(village=village, red_top_n=2, mask_black_names=True)
    good, fine, bad = households_with_heads(grid, 3, names=["李红英", "赵国强", "张三明"])
    ResidentFactory(
        household=bad, name="张小明", id_number="430903197001011234", phone="13900001111"
    )
    base_points(village)
    award(village_clerk, [good], 60, DAY)
    award(village_clerk, [fine], 30, DAY)
    award(village_clerk, [bad], -10, DAY, offence=True, name="乱倒垃圾")
    (pub,) = village_lists_publish(village=village, quarter="2026Q3")
    return pub


def test_public_list_masks_black_names_and_shows_no_personal_information(
    published, client, village
):
    body = client.get(reverse("points:public_lists", args=[village.code])).content.decode()
    assert "李红英" in body and "赵国强" in body
    assert "张*明" in body and "张三明" not in body
    assert "430903197001011234" not in body and "13900001111" not in body
    assert "<script" not in body and "<form" not in body


def test_public_list_is_cached_and_a_new_revision_invalidates_it(
    published,
    client,
    village,
    village_clerk,
    django_assert_max_num_queries,
    django_capture_on_commit_callbacks,
):
    url = reverse("points:public_lists", args=[village.code])
    client.get(url)
    with django_assert_max_num_queries(0):
        assert "赵国强" in client.get(url).content.decode()
    entry = published.entries.get(public_name="赵国强")
    with django_capture_on_commit_callbacks(execute=True):
        list_entry_withdraw(actor=village_clerk, entry=entry, reason="复核后积分有误")
    body = client.get(url).content.decode()
    assert "赵国强" not in body and "第2版" in body


def test_public_list_query_count_does_not_grow_with_entries(
    village, grid, village_clerk, client, django_assert_max_num_queries
):
    households = households_with_heads(grid, 30)
    award(village_clerk, households, 10, DAY)
    village_lists_publish(village=village, quarter="2026Q3")
    with django_assert_max_num_queries(6):
        client.get(reverse("points:public_lists", args=[village.code]))


def test_print_views_have_the_qr_code_and_page_size(published, client, village):
    url = reverse("points:public_lists_print", args=[village.code])
    a4 = client.get(url + "?size=a4").content.decode()
    a3 = client.get(url + "?size=a3").content.decode()
    assert "<svg" in a4 and "lists-a4.css" in a4 and "sheet-a4" in a4
    assert "lists-a3.css" in a3
    assert client.get(url + "?size=a5").status_code == 404


def test_staff_see_full_names_and_ineligibility(published, login, village_clerk):
    body = login(village_clerk).get(reverse("points:staff_lists")).content.decode()
    assert "张三明" in body and "本季度不得参评奖励" in body


def test_staff_see_a_courtyard_black_listed_household_ineligible_on_the_overall_red_list(
    village, grid, village_clerk, login
):
    # given a household red overall (70 points) but black on the courtyard list (−15 ≤ −10)
    from tests.points.factories import category_for

    courtyard = category_for(village.township, village_clerk, name="家庭美德")
    ListPolicy.objects.create(village=village, black_max_points=-10, courtyard_category=courtyard)
    (messy,) = households_with_heads(grid, 1, names=["钱多多"])
    award(village_clerk, [messy], 85, DAY)
    award(village_clerk, [messy], -15, DAY, category=courtyard, name="庭院脏乱")
    village_lists_publish(village=village, quarter="2026Q3")
    # when staff open the lists, then both of its rows (overall red, courtyard black) say so
    body = login(village_clerk).get(reverse("points:staff_lists")).content.decode()
    rows = [r for r in body.split("<tr>") if "钱多多" in r]
    assert len(rows) == 2 and all("本季度不得参评奖励" in r for r in rows)
    assert any("红榜" in r for r in rows)


def test_withdraw_from_another_village_is_404(published, login, other_village):
    clerk = user_with_scope(Role.VILLAGE_STAFF, village=other_village, is_staff=True)
    entry = published.entries.first()
    response = login(clerk).post(
        reverse("points:list_entry_withdraw", args=[entry.pk]), {"reason": "x"}
    )
    assert response.status_code == 404


def test_quarterly_review_compares_villages_and_exports(
    village, other_village, grid, village_clerk, township_staff, login
):
    build_month(village, grid, village_clerk, other_village=other_village)
    analysis.monthly_analysis_run(month=OCT)
    from governance import jobs

    jobs.run_lists({"quarter": "2026Q4"})
    client = login(township_staff)
    url = reverse("staff:quarterly_review", args=["2026Q4"])
    body = client.get(url).content.decode()
    assert village.name in body and other_village.name in body
    from governance.models import RepresentativeHonour

    best = RepresentativeHonour.objects.get(
        title="excellent", period="2026Q4", village=village, rank=1
    )
    assert f"<td>{best.representative.resident.name}</td>" in body
    book = load_workbook(BytesIO(client.get(url + "?format=xlsx").content))
    rows = list(book["季度点评"].values)
    by_name = {r[1]: r for r in rows[1:]}
    # 长东湖村: 3 resolved, 2 in the grid → 66.7 %; 注湖港村: 1 of 1 → 100 % ranks first
    assert by_name[other_village.name][0] == 1 and by_name[village.name][0] == 2
    assert by_name[village.name][rows[0].index("超期")] == 3
    assert client.get(reverse("staff:quarterly_review", args=["2026Q5"])).status_code == 404


def test_staff_list_page_query_count_does_not_grow(
    village, grid, village_clerk, login, django_assert_max_num_queries
):
    households = households_with_heads(grid, 5)
    award(village_clerk, households, 10, DAY)
    village_lists_publish(village=village, quarter="2026Q3")
    client = login(village_clerk)
    client.get(reverse("points:staff_lists"))
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("points:staff_lists"))
    more = households_with_heads(grid, 25)
    award(village_clerk, more, 10, dt.date(2026, 11, 5))
    village_lists_publish(village=village, quarter="2026Q4")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "2026Q4" in client.get(reverse("points:staff_lists")).content.decode()


def test_staff_record_and_dismiss_an_objection_through_the_pages(published, login, village_clerk):
    from points.models import Objection

    client = login(village_clerk)
    entry = published.entries.get(public_name="赵国强")
    client.post(reverse("points:list_objection_record", args=[entry.pk]), {"text": "分数有误"})
    objection = Objection.objects.get()
    assert "分数有误" in client.get(reverse("points:staff_lists")).content.decode()
    client.post(
        reverse("points:list_objection_decide", args=[objection.pk]),
        {"upheld": "0", "decision": "经核实无误"},
    )
    objection.refresh_from_db()
    assert (objection.status, objection.decision) == ("dismissed", "经核实无误")
    published.refresh_from_db()
    assert published.status == "published"


def test_index_and_review_pages_query_counts_are_pinned(
    analysed, login, township_staff, django_assert_max_num_queries
):
    client = login(township_staff)
    client.get(reverse("staff:reports"))
    with django_assert_max_num_queries(8):
        assert client.get(reverse("staff:reports")).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(reverse("staff:quarterly_review", args=["2026Q4"])).status_code == 200


def test_public_archive_shows_past_quarters_each_at_its_current_revision(
    village, grid, village_clerk, client
):
    # given lists published for Q2 (later corrected: revision 2) and Q3
    spring, summer = households_with_heads(grid, 2, names=["孙春生", "周夏荷"])
    award(village_clerk, [spring], 40, dt.date(2026, 5, 10))
    award(village_clerk, [summer], 40, DAY)
    (q2,) = village_lists_publish(village=village, quarter="2026Q2")
    village_lists_publish(village=village, quarter="2026Q3")
    list_entry_withdraw(actor=village_clerk, entry=q2.entries.get(), reason="复核有误")
    url = reverse("points:public_lists", args=[village.code])
    # when a villager opens the page, then the current quarter shows with a link to the archive
    current = client.get(url).content.decode()
    assert "周夏荷" in current and "孙春生" not in current
    assert '<a href="?quarter=2026Q2">2026年第2季度</a>' in current
    # and the archived quarter shows its current revision (the withdrawn entry gone)
    archived = client.get(url, {"quarter": "2026Q2"}).content.decode()
    assert "2026年第2季度" in archived and "第2版" in archived
    assert "孙春生" not in archived and "周夏荷" not in archived
    assert '<a href="?quarter=2026Q3">2026年第3季度</a>' in archived
    # an unknown or malformed quarter shows the current lists or a 404, never an error
    assert "周夏荷" in client.get(url, {"quarter": "2024Q1"}).content.decode()
    assert client.get(url, {"quarter": "2026-Q2"}).status_code == 404


def test_staff_trigger_runs_the_quarter_lists_for_the_clerks_village(
    village, other_village, grid, village_clerk, login, django_capture_on_commit_callbacks
):
    # given points in the clerk's village and nothing published
    a, b = households_with_heads(grid, 2)
    award(village_clerk, [a], 50, DAY)
    award(village_clerk, [b], 20, DAY)
    client = login(village_clerk)
    # when the clerk starts the quarter's lists from the reports page (the worker is eager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("staff:reports_run"), {"kind": "lists", "quarter": "2026Q3"})
    # then a run for their village only is made, runs, and its progress page says done
    job = JobRun.objects.get()
    assert (job.kind, job.key) == ("lists", f"lists:2026Q3:{village.code}")
    assert job.params == {"village": village.code, "quarter": "2026Q3"}
    assert (job.status, job.done, job.total) == ("done", 2, 2)  # the village, the township
    assert "已完成" in client.get(response.url).content.decode()
    from points.models import ListPublication

    assert list(ListPublication.objects.values_list("village_id", "quarter")) == [
        (village.pk, "2026Q3")
    ]


def test_township_staff_trigger_runs_the_lists_for_every_village_of_the_township(
    village,
    other_village,
    grid,
    township,
    township_staff,
    login,
    django_capture_on_commit_callbacks,
):
    (a,) = households_with_heads(grid, 1)
    award(township_staff, [a], 50, DAY)
    with django_capture_on_commit_callbacks(execute=True):
        login(township_staff).post(
            reverse("staff:reports_run"), {"kind": "lists", "quarter": "2026Q3"}
        )
    job = JobRun.objects.get()
    assert (job.key, job.status, job.total) == (f"lists:2026Q3:{township.code}", "done", 3)
    from points.models import ListPublication

    assert set(ListPublication.objects.values_list("village_id", flat=True)) == {
        village.pk,
        other_village.pk,
    }

"""邻里服务日: a village setting (default the first Monday of the month); the printed list holds the
点单 for the coming service day, per representative."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from governance import selectors, services
from governance.models import ServiceDaySetting
from grids.access import scope_of
from grids.models import AuditEntry
from tests.governance.factories import report

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def clock(monkeypatch):
    class Clock:
        def set(self, when: dt.datetime) -> None:
            monkeypatch.setattr(timezone, "now", lambda: when)

    return Clock()


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def test_default_is_the_first_monday_and_a_village_may_choose_another_day(village, village_clerk):
    plan = selectors.service_day_plan(village_id=village.pk, today=dt.date(2026, 11, 3))
    assert (plan.day, plan.is_default) == (dt.date(2026, 12, 7), True)

    services.service_day_set(actor=village_clerk, village=village, week=3, weekday=5)
    plan = selectors.service_day_plan(village_id=village.pk, today=dt.date(2026, 11, 3))
    # The third Saturday of November 2026 is the 21st.
    assert (plan.day, plan.is_default, plan.rule_label) == (
        dt.date(2026, 11, 21),
        False,
        "第三个周六",
    )
    assert (plan.previous, plan.following) == (dt.date(2026, 10, 17), dt.date(2026, 12, 19))
    assert AuditEntry.objects.filter(action="service_day_set").count() == 1


def test_only_the_villages_staff_set_its_service_day(other_village, village_clerk):
    with pytest.raises(PermissionDenied):
        services.service_day_set(actor=village_clerk, village=other_village, week=2, weekday=0)
    assert not ServiceDaySetting.objects.exists()


def test_a_day_that_is_not_a_service_day_falls_back_to_the_coming_one(village):
    plan = selectors.service_day_plan(
        village_id=village.pk, day=dt.date(2026, 11, 3), today=dt.date(2026, 11, 3)
    )
    assert plan.day == dt.date(2026, 12, 7)


def test_list_holds_orders_waiting_on_the_day_reported_up_to_it(
    clock, representative, village_clerk, village
):
    # 2 November 2026 is the first Monday.
    clock.set(local(2026, 10, 20, 9))
    done_before = report(representative, kind="service_order", title="十月已理发")
    services.request_triage(actor=village_clerk, request=done_before, level="grid")
    services.request_start(actor=representative.user, request=done_before)
    services.request_resolve(actor=representative.user, request=done_before, note="已理发")
    clock.set(local(2026, 10, 28, 9))
    waiting = report(representative, kind="service_order", title="修电视")
    clock.set(local(2026, 11, 2, 20))
    evening = report(representative, kind="service_order", title="当天晚上登记")
    clock.set(local(2026, 11, 3, 8))
    after = report(representative, kind="service_order", title="服务日之后登记")

    scope = scope_of(village_clerk)

    def titles(day):
        groups = selectors.service_day_orders(scope=scope, village_id=village.pk, day=day)
        return sorted(o.title for g in groups for o in g.orders)

    assert titles(dt.date(2026, 11, 2)) == sorted([waiting.title, evening.title])
    # The coming day (7 December) lists every order still open.
    assert titles(None) == sorted([waiting.title, evening.title, after.title])


def test_page_sets_the_day_and_prints_the_list_for_it(
    clock, representative, village_clerk, village, login
):
    clock.set(local(2026, 11, 3, 9))
    report(representative, kind="service_order", title="上门量血压")
    client = login(village_clerk)
    url = reverse("staff:service_day")
    html = client.get(url).content.decode()
    assert "2026年12月7日" in html and "上门量血压" in html and "（默认）" in html

    response = client.post(url, {"village": village.pk, "week": "2", "weekday": "2"})
    assert response.status_code == 302
    html = client.get(url).content.decode()
    # The second Wednesday of November 2026 is the 11th.
    assert "2026年11月11日" in html and "每月第二个周三" in html and "上门量血压" in html


def test_page_refuses_a_bad_setting_with_a_message(village_clerk, village, login):
    response = login(village_clerk).post(
        reverse("staff:service_day"), {"village": village.pk, "week": "5", "weekday": "0"}
    )
    assert response.status_code == 400
    assert not ServiceDaySetting.objects.exists()


@pytest.mark.parametrize("day", ["２０２６-11-02", "2026-02-30", "x", "9" * 40])
def test_garbled_day_in_query_string_shows_the_coming_day(day, village_clerk, login):
    response = login(village_clerk).get(reverse("staff:service_day"), {"day": day})
    assert response.status_code == 200

"""Deadlines per level from the township's settings, counted in Asia/Shanghai local days."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from governance import services
from governance.models import Request
from governance.selectors import overdue_q, request_is_overdue, supervision_list
from grids.access import scope_of
from tests.governance.factories import report

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC


@pytest.fixture
def clock(monkeypatch):
    """Set the time the services and selectors see."""

    class Clock:
        def set(self, when: dt.datetime) -> None:
            monkeypatch.setattr(timezone, "now", lambda: when)

    return Clock()


def test_grid_deadline_is_end_of_third_local_day(clock, representative, village_clerk):
    # 23:30 on 1 March in the township is 15:30 UTC: still 1 March locally.
    clock.set(dt.datetime(2026, 3, 1, 15, 30, tzinfo=UTC))
    request = report(representative)
    services.request_triage(actor=village_clerk, request=request, level="grid")
    request.refresh_from_db()
    assert request.deadline.astimezone(SHANGHAI) == dt.datetime(
        2026, 3, 4, 23, 59, 59, tzinfo=SHANGHAI
    )


def test_local_date_not_utc_date_decides_the_day(clock, representative, village_clerk):
    # 00:30 on 2 March in the township is still 1 March in UTC; the count starts on the 2nd.
    clock.set(dt.datetime(2026, 3, 1, 16, 30, tzinfo=UTC))
    request = report(representative)
    services.request_triage(actor=village_clerk, request=request, level="grid")
    request.refresh_from_db()
    assert request.deadline.astimezone(SHANGHAI).date() == dt.date(2026, 3, 5)


def test_deadlines_follow_the_townships_settings(clock, township, representative, village_clerk):
    township.grid_deadline_days = 2
    township.village_deadline_days = 10
    township.save()
    clock.set(dt.datetime(2026, 3, 1, 2, 0, tzinfo=UTC))
    grid_request = report(representative)
    village_request = report(representative, title="村道坑洼")
    services.request_triage(actor=village_clerk, request=grid_request, level="grid")
    services.request_triage(actor=village_clerk, request=village_request, level="village")
    grid_request.refresh_from_db()
    village_request.refresh_from_db()
    assert grid_request.deadline.astimezone(SHANGHAI).date() == dt.date(2026, 3, 3)
    assert village_request.deadline.astimezone(SHANGHAI).date() == dt.date(2026, 3, 11)


def test_default_deadlines_are_3_7_15_days(clock, representative, village_clerk, department):
    clock.set(dt.datetime(2026, 3, 1, 2, 0, tzinfo=UTC))
    days = {}
    for level in ("grid", "village", "township"):
        request = report(representative, title=level)
        services.request_triage(
            actor=village_clerk,
            request=request,
            level=level,
            department=department if level == "township" else None,
        )
        request.refresh_from_db()
        days[level] = (request.deadline.astimezone(SHANGHAI).date() - dt.date(2026, 3, 1)).days
    assert days == {"grid": 3, "village": 7, "township": 15}


def test_department_must_acknowledge_within_its_ack_hours(
    clock, representative, village_clerk, department
):
    department.ack_hours = 4
    department.save()
    start = dt.datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
    clock.set(start)
    request = report(representative)
    services.request_triage(
        actor=village_clerk, request=request, level="township", department=department
    )
    request.refresh_from_db()
    assert request.ack_deadline == start + dt.timedelta(hours=4)


def test_overdue_is_computed_from_deadline_and_now(clock, representative, village_clerk):
    clock.set(dt.datetime(2026, 3, 1, 2, 0, tzinfo=UTC))
    request = report(representative)
    services.request_triage(actor=village_clerk, request=request, level="grid")
    request.refresh_from_db()
    last_second = dt.datetime(2026, 3, 4, 23, 59, 58, tzinfo=SHANGHAI)
    just_after = dt.datetime(2026, 3, 5, 0, 0, 0, tzinfo=SHANGHAI)
    assert not request_is_overdue(request, last_second)
    assert request_is_overdue(request, just_after)
    assert not Request.objects.filter(overdue_q(last_second)).exists()
    assert list(Request.objects.filter(overdue_q(just_after))) == [request]


def test_resolved_request_is_never_overdue(clock, representative, village_clerk):
    clock.set(dt.datetime(2026, 3, 1, 2, 0, tzinfo=UTC))
    request = report(representative)
    services.request_triage(actor=village_clerk, request=request, level="grid")
    services.request_start(actor=representative.user, request=request)
    services.request_resolve(actor=representative.user, request=request, note="好了")
    later = dt.datetime(2026, 4, 1, tzinfo=UTC)
    assert not Request.objects.filter(overdue_q(later)).exists()


def test_unacknowledged_request_appears_on_supervision_list(
    clock, representative, village_clerk, township_staff, department, handler
):
    clock.set(dt.datetime(2026, 3, 1, 1, 0, tzinfo=UTC))
    late = report(representative, title="未报到")
    on_time = report(representative, title="已报到")
    for request in (late, on_time):
        services.request_triage(
            actor=village_clerk, request=request, level="township", department=department
        )
    services.request_acknowledge(actor=handler, request=on_time)

    clock.set(dt.datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # 25 hours later
    listed = list(supervision_list(scope=scope_of(township_staff)))
    assert listed == [late]
    assert listed[0].overdue


# --- the township's 政事 limit and a department's own limit ------------------------------------


def test_township_limit_applies_to_a_department_without_its_own(
    clock, township, representative, village_clerk, township_staff
):
    # Given a township whose 政事 limit is 10 days and a department that sets no limit
    township.township_deadline_days = 10
    township.save()
    department = services.department_create(actor=township_staff, township=township, name="水利站")
    assert department.handle_days is None
    # When a request is triaged to it at 23:30 local time on 1 March
    clock.set(dt.datetime(2026, 3, 1, 15, 30, tzinfo=UTC))
    request = report(representative)
    services.request_triage(
        actor=village_clerk, request=request, level="township", department=department
    )
    # Then it has until the end of 11 March in the township
    request.refresh_from_db()
    assert request.deadline.astimezone(SHANGHAI) == dt.datetime(
        2026, 3, 11, 23, 59, 59, tzinfo=SHANGHAI
    )


def test_department_own_limit_replaces_the_townships(
    clock, township, representative, village_clerk, township_staff
):
    township.township_deadline_days = 10
    township.save()
    quick = services.department_create(
        actor=township_staff, township=township, name="应急办", handle_days=2
    )
    slow = services.department_create(
        actor=township_staff, township=township, name="自然资源办", handle_days=20
    )
    clock.set(dt.datetime(2026, 3, 1, 16, 30, tzinfo=UTC))  # 00:30 on 2 March locally
    days = {}
    for department in (quick, slow):
        request = report(representative, title=department.name)
        services.request_triage(
            actor=village_clerk, request=request, level="township", department=department
        )
        request.refresh_from_db()
        days[department.name] = request.deadline.astimezone(SHANGHAI).date()
    assert days == {"应急办": dt.date(2026, 3, 4), "自然资源办": dt.date(2026, 3, 22)}


def test_changing_the_township_limit_moves_later_deadlines_only(
    clock, township, representative, village_clerk, township_staff
):
    department = services.department_create(actor=township_staff, township=township, name="民政办")
    clock.set(dt.datetime(2026, 3, 1, 2, 0, tzinfo=UTC))
    before = report(representative, title="改之前")
    services.request_triage(
        actor=village_clerk, request=before, level="township", department=department
    )
    township.township_deadline_days = 5
    township.save()
    after = report(representative, title="改之后")
    services.request_triage(
        actor=village_clerk, request=after, level="township", department=department
    )
    before.refresh_from_db()
    after.refresh_from_db()
    assert before.deadline.astimezone(SHANGHAI).date() == dt.date(2026, 3, 16)
    assert after.deadline.astimezone(SHANGHAI).date() == dt.date(2026, 3, 6)


def test_migration_lets_departments_with_the_townships_figure_follow_it(township):
    import importlib

    from django.apps import apps

    from governance.models import Department

    migration = importlib.import_module(
        "governance.migrations.0006_department_handle_days_optional"
    )
    same = Department.objects.create(township=township, name="甲", handle_days=15)
    own = Department.objects.create(township=township, name="乙", handle_days=20)
    migration.follow_township_where_equal(apps, None)
    same.refresh_from_db()
    own.refresh_from_db()
    assert (same.handle_days, own.handle_days) == (None, 20)

"""Every page under /rep/ and /staff/ runs a fixed number of queries, with 10 rows or 1,000.

The rows are made with bulk_create (households, visits, requests in every status, timeline
events, 督办 notes, notices, work-list items) so the test stays fast.
"""

import datetime as dt
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from governance import services
from governance.models import (
    Notice,
    NoticeDelivery,
    Request,
    RequestEvent,
    Supervision,
    WorkList,
    WorkListItem,
)
from grids.models import Household, Visit
from tests.governance.factories import report

S = Request.Status
counter = itertools.count()


class Rows:
    """Adds ``n`` more rows of everything a page lists."""

    def __init__(self, *, representative, clerk, department):
        self.rep = representative
        self.clerk = clerk
        self.department = department
        self.village = representative.grid.village
        # The request whose detail pages are measured, and an original for duplicates.
        self.detail = report(representative, title="详情页")
        self.original = report(representative, title="原件")
        self.visit = Visit.objects.create(
            representative=representative,
            household=representative.households.first(),
            visited_at=timezone.now(),
            method="phone",
        )
        self.work_list = WorkList.objects.create(
            village=self.village,
            month=timezone.localdate().replace(day=1),
            published_by=clerk,
            published_at=timezone.now(),
        )

    def add(self, n: int) -> None:
        now = timezone.now()
        past = now - dt.timedelta(days=30)
        households = Household.objects.bulk_create(
            Household(
                village=self.village,
                grid=self.rep.grid,
                number=f"Q{next(counter):06d}",
                representative=self.rep,
                tags=["独居老人"] if i % 7 == 0 else [],
                priority=i % 7 == 0,
            )
            for i in range(n)
        )
        Visit.objects.bulk_create(
            Visit(
                representative=self.rep,
                household=h,
                visited_at=now - dt.timedelta(days=i % 20),
                method="in_person",
            )
            for i, h in enumerate(households)
        )
        shapes = [
            {"status": S.REPORTED},
            {"status": S.TRIAGED, "level": "grid", "deadline": past},
            {
                "status": S.TRIAGED,
                "level": "township",
                "department": self.department,
                "ack_deadline": past,
                "deadline": now + dt.timedelta(days=5),
            },
            {
                "status": S.IN_PROGRESS,
                "level": "township",
                "department": self.department,
                "acknowledged_at": past,
                "deadline": past,
            },
            {"status": S.IN_PROGRESS, "level": "village", "deadline": past},
            {"status": S.RESOLVED, "level": "grid", "resolved_at": now, "resolved_level": "grid"},
            {"status": S.DUPLICATE, "duplicate_of": self.original},
        ]
        Request.objects.bulk_create(
            Request(
                village=self.village,
                grid=self.rep.grid,
                household=households[i],
                representative=self.rep,
                reported_by=self.rep.user,
                title=f"诉求{i}",
                reported_at=now - dt.timedelta(minutes=i),
                source_visit=self.visit,
                kind=Request.Kind.SERVICE_ORDER if i % 3 == 0 else Request.Kind.REQUEST,
                **shapes[i % len(shapes)],
            )
            for i in range(n)
        )
        RequestEvent.objects.bulk_create(
            RequestEvent(
                request=self.detail,
                actor=self.clerk,
                at=now,
                action="progress",
                from_status=S.REPORTED,
                to_status=S.REPORTED,
                note=f"进展{i}",
            )
            for i in range(n)
        )
        Supervision.objects.bulk_create(
            Supervision(request=self.detail, by=self.clerk, at=now, note=f"督办{i}")
            for i in range(n)
        )
        notices = Notice.objects.bulk_create(
            Notice(
                township=self.village.township,
                village=self.village,
                title=f"通知{i}",
                body="内容",
                published_by=self.clerk,
                published_at=now,
            )
            for i in range(n)
        )
        NoticeDelivery.objects.bulk_create(
            NoticeDelivery(notice=notice, household=h, confirmed_by=self.rep.user, confirmed_at=now)
            for notice, h in zip(notices, households, strict=True)
        )
        WorkListItem.objects.bulk_create(
            WorkListItem(work_list=self.work_list, title=f"事项{i}", per_household=i % 2 == 0)
            for i in range(n)
        )


@pytest.fixture
def rows(representative, village_clerk, department):
    return Rows(representative=representative, clerk=village_clerk, department=department)


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


# (url name, who, args from the Rows, pinned maximum)
REP_PAGES = [
    ("rep:home", lambda r: []),
    ("rep:visit_new", lambda r: []),
    ("rep:visit_done", lambda r: [r.visit.pk]),
    ("rep:request_new", lambda r: []),
    ("rep:request_list", lambda r: []),
    ("rep:request_detail", lambda r: [r.detail.pk]),
    ("rep:notice_list", lambda r: []),
]
STAFF_PAGES = [
    ("staff:request_list", "clerk", lambda r: []),
    ("staff:triage_queue", "clerk", lambda r: []),
    ("staff:return_visit_queue", "clerk", lambda r: []),
    ("staff:duplicate_list", "clerk", lambda r: []),
    ("staff:notice_list", "clerk", lambda r: []),
    ("staff:request_detail", "clerk", lambda r: [r.detail.pk]),
    ("staff:supervision_list", "township", lambda r: []),
    ("staff:request_detail", "township", lambda r: [r.detail.pk]),
    ("staff:department_queue", "handler", lambda r: []),
    ("staff:service_day", "clerk", lambda r: []),
    ("staff:work_lists", "clerk", lambda r: []),
    ("staff:request_export", "clerk", lambda r: ["csv"]),
    ("staff:request_export", "clerk", lambda r: ["xlsx"]),
]
PINNED = {
    "rep:home": 9,
    "rep:visit_new": 6,
    "rep:visit_done": 8,  # + this month's work items, ticked for the visited household
    "rep:request_new": 7,
    "rep:request_list": 7,
    "rep:request_detail": 11,
    "rep:notice_list": 9,
    "staff:request_list": 9,
    "staff:triage_queue": 6,
    "staff:return_visit_queue": 6,
    "staff:duplicate_list": 6,
    "staff:notice_list": 8,
    "staff:request_detail": 15,  # + the meetings the request was taken to
    "staff:supervision_list": 6,
    "staff:department_queue": 6,
    "staff:request_export": 10,  # the export is audited: a count, the place, the audit row
    "staff:service_day": 8,
    "staff:work_lists": 14,  # five item rows, each with its catalogue <select>
}


@pytest.mark.parametrize(("name", "args"), REP_PAGES, ids=[p[0] for p in REP_PAGES])
def test_rep_page_query_count_does_not_grow(name, args, rows, representative, login):
    client = login(representative.user)
    rows.add(10)
    url = reverse(name, args=args(rows))
    small = count_queries(client, url)
    rows.add(990)
    large = count_queries(client, url)
    assert small == large
    assert large <= PINNED[name], f"{name}: {large} queries"


@pytest.mark.parametrize(
    ("name", "who", "args"),
    STAFF_PAGES,
    ids=[f"{p[0]}-{p[1]}-{i}" for i, p in enumerate(STAFF_PAGES)],
)
def test_staff_page_query_count_does_not_grow(
    name, who, args, rows, village_clerk, township_staff, handler, login
):
    user = {"clerk": village_clerk, "township": township_staff, "handler": handler}[who]
    client = login(user)
    rows.add(10)
    url = reverse(name, args=args(rows))
    small = count_queries(client, url)
    rows.add(990)
    large = count_queries(client, url)
    assert small == large
    assert large <= PINNED[name], f"{name}: {large} queries"


def test_visit_and_triage_writes_do_not_grow_with_rows(rows, representative, village_clerk, login):
    """The two busiest POSTs: logging a visit and triaging a request."""
    rep_client = login(representative.user)
    clerk_client = login(village_clerk)
    household = representative.households.first()

    def post_counts():
        with CaptureQueriesContext(connection) as visit_ctx:
            rep_client.post(
                reverse("rep:visit_new"), {"household": household.pk, "method": "phone"}
            )
        request = services.request_report(actor=representative.user, household=household, title="t")
        with CaptureQueriesContext(connection) as triage_ctx:
            clerk_client.post(
                reverse("staff:request_action", args=[request.pk, "triage"]), {"level": "grid"}
            )
        request.refresh_from_db()
        assert request.status == S.TRIAGED
        return len(visit_ctx.captured_queries), len(triage_ctx.captured_queries)

    rows.add(10)
    small = post_counts()
    rows.add(990)
    assert post_counts() == small

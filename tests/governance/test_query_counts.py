"""Every page under /rep/ and /staff/ runs a fixed number of queries, with 10 rows or 1,000.

The pages are enumerated from the URL configuration, so a page added later without a measurement
fails ``test_every_rep_and_staff_route_is_measured``. The rows are made with bulk_create
(households, residents, representatives, visits, requests in every status, timeline events,
督办 notes, notices, work-list items, catalogue items, departments, categories, bodies and their
members, meetings, rule versions, background jobs, villages with their monthly snapshots, the
clerk's 包村/包网格 of them) once for the module: every page is measured with 10 rows of each,
then again with 1,000.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from deliberation.models import Body, BodyKind, Meeting, Membership, RuleVersion, VillageRule
from governance import analysis, services
from governance.models import (
    CatalogueItem,
    Department,
    JobRun,
    Notice,
    NoticeDelivery,
    Request,
    RequestCategory,
    RequestEvent,
    Supervision,
    WorkList,
    WorkListItem,
)
from grids.models import (
    ContactAssignment,
    Grid,
    Household,
    Representative,
    Resident,
    Role,
    Village,
    Visit,
)
from tests.factories import (
    GridFactory,
    TownshipFactory,
    VillageFactory,
    make_id_number,
    representative_user,
    user_with_scope,
)
from tests.governance.factories import DepartmentFactory, department_handler, report

S = Request.Status
counter = itertools.count()
village_numbers = itertools.count(300)  # 12-digit codes: 3 digits after the township's 9


def _unique_id_number() -> str:
    seq = next(counter)
    return make_id_number(seq, birth=dt.date(1940, 1, 1) + dt.timedelta(days=seq))


class Rows:
    """Adds ``n`` more rows of everything a page under /rep/ or /staff/ lists or offers."""

    def __init__(self, *, representative, clerk, township_user, department):
        self.rep = representative
        self.clerk = clerk
        self.department = department
        self.village = representative.grid.village
        self.township = self.village.township
        # The requests whose detail pages are measured, and an original for duplicates.
        self.detail = report(representative, title="详情页")
        self.original = report(representative, title="原件")
        self.department_detail = services.request_triage(
            actor=clerk,
            request=report(representative, title="部门详情页"),
            level="township",
            department=department,
        )
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
        self.notice = services.notice_publish(actor=township_user, title="全镇通知", body="内容")
        self.body = Body.objects.create(
            village=self.village, kind=BodyKind.OPINION_FORUM, name="民情恳谈会"
        )
        self.rule = VillageRule.objects.create(village=self.village)
        self.job = JobRun.objects.create(
            kind=JobRun.Kind.MONTHLY,
            key="monthly:measured",
            params={"village": self.village.code},
            status=JobRun.Status.DONE,
            requested_by=clerk,
        )
        self.month = timezone.localdate().replace(day=1)
        quarter = (self.month.month - 1) // 3 + 1
        self.quarter = f"{self.month.year}Q{quarter}"

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
        heads = Resident.objects.bulk_create(
            Resident(
                household=h,
                name=f"户主{h.number}",
                gender="M",
                birth_date=dt.date(1960, 1, 1),
                id_number=_unique_id_number(),
                relation="户主",
            )
            for h in households
        )
        for household, head in zip(households, heads, strict=True):
            household.head = head
        Household.objects.bulk_update(households, ["head"])
        Representative.objects.bulk_create(
            Representative(
                resident=head,
                grid=self.rep.grid,
                card_number=f"QC{next(counter):07d}",
                appointed_on=dt.date(2024, 1, 1),
            )
            for head in heads
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
        for detail in (self.detail, self.department_detail):
            RequestEvent.objects.bulk_create(
                RequestEvent(
                    request=detail,
                    actor=self.clerk,
                    at=now,
                    action="progress",
                    from_status=detail.status,
                    to_status=detail.status,
                    note=f"进展{i}",
                )
                for i in range(n)
            )
            Supervision.objects.bulk_create(
                Supervision(request=detail, by=self.clerk, at=now, note=f"督办{i}")
                for i in range(n)
            )
        notices = Notice.objects.bulk_create(
            Notice(
                township=self.township,
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
        NoticeDelivery.objects.bulk_create(
            NoticeDelivery(
                notice=self.notice, household=h, confirmed_by=self.rep.user, confirmed_at=now
            )
            for h in households
        )
        WorkListItem.objects.bulk_create(
            WorkListItem(work_list=self.work_list, title=f"事项{i}", per_household=i % 2 == 0)
            for i in range(n)
        )
        self.add_choices(n)
        self.add_deliberation(n, heads, now)
        self.add_villages(max(1, n // 5))
        JobRun.objects.bulk_create(
            JobRun(
                kind=JobRun.Kind.MONTHLY,
                key=f"monthly:{next(counter)}",
                params={"village": self.village.code},
                status=JobRun.Status.DONE,
                requested_by=self.clerk,
            )
            for _ in range(n)
        )
        # The report pages read stored snapshots: refresh them over all the rows.
        analysis.monthly_analysis_run(month=self.month)

    def add_choices(self, n: int) -> None:
        """What the forms offer: catalogue items, departments, categories."""
        CatalogueItem.objects.bulk_create(
            CatalogueItem(
                township=self.township,
                list_kind=CatalogueItem.ListKind.SELF_GOVERNANCE,
                code=f"Z-{next(counter):05d}",
                title="村内事项",
                added_on=dt.date(2024, 1, 1),
            )
            for _ in range(n)
        )
        Department.objects.bulk_create(
            Department(township=self.township, name=f"办{next(counter)}") for _ in range(n)
        )
        RequestCategory.objects.bulk_create(
            RequestCategory(township=self.township, name=f"类{next(counter)}") for _ in range(n)
        )

    def add_deliberation(self, n: int, residents, now) -> None:
        Body.objects.bulk_create(
            Body(village=self.village, kind=BodyKind.OPINION_FORUM, name=f"恳谈会{next(counter)}")
            for _ in range(n)
        )
        Membership.objects.bulk_create(
            Membership(body=self.body, resident=r, joined_on=dt.date(2024, 1, 1)) for r in residents
        )
        Meeting.objects.bulk_create(
            Meeting(
                village=self.village,
                body=self.body,
                kind=Meeting.Kind.WUCHANG,
                title=f"屋场会{next(counter)}",
                venue=Meeting.Venue.WUCHANG,
                scheduled_at=now + dt.timedelta(days=3),
                created_by=self.clerk,
            )
            for _ in range(n)
        )
        RuleVersion.objects.bulk_create(
            RuleVersion(
                rule=self.rule,
                number=next(counter) + 1,
                title="村规民约草案",
                created_by=self.clerk,
            )
            for _ in range(n)
        )

    def add_villages(self, n: int) -> None:
        villages = Village.objects.bulk_create(
            Village(
                township=self.township,
                code=f"{self.township.code}{next(village_numbers):03d}",
                name=f"新村{next(counter)}",
            )
            for _ in range(n)
        )
        grids = Grid.objects.bulk_create(
            Grid(village=v, code=f"{v.code}001", name="第一网格") for v in villages
        )
        # 我包联的村/网格 on the staff pages: the clerk answers for every new village and grid.
        ContactAssignment.objects.bulk_create(
            ContactAssignment(
                cadre=self.clerk, kind=kind, village=g.village, grid=grid, started_on=self.month
            )
            for g in grids
            for kind, grid in (("village", None), ("grid", g))
        )


@dataclass(frozen=True)
class Case:
    name: str
    who: str
    args: Callable[[Rows], list]
    pinned: int
    status: int = 200
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.name}-{self.label or self.who}"


NO_ARGS: Callable[[Rows], list] = lambda r: []  # noqa: E731

# Every GET page under /rep/ and /staff/: (url name, who, args from the Rows, pinned maximum).
CASES = [
    Case("rep:home", "rep", NO_ARGS, 8),
    Case("rep:visit_new", "rep", NO_ARGS, 6),
    Case("rep:visit_done", "rep", lambda r: [r.visit.pk], 8),  # + this month's work items
    Case("rep:request_new", "rep", NO_ARGS, 7),
    Case("rep:request_list", "rep", NO_ARGS, 7),
    Case("rep:request_detail", "rep", lambda r: [r.detail.pk], 11),
    Case("rep:notice_list", "rep", NO_ARGS, 9),
    Case("staff:index", "clerk", NO_ARGS, 4, status=302),
    Case("staff:request_list", "clerk", NO_ARGS, 9),
    Case("staff:request_export", "clerk", lambda r: ["csv"], 10),  # audited: count, place, row
    Case("staff:request_export", "clerk", lambda r: ["xlsx"], 10, label="clerk-xlsx"),
    Case("staff:request_detail", "clerk", lambda r: [r.detail.pk], 15),  # + linked meetings
    Case("staff:request_detail", "township", lambda r: [r.detail.pk], 14),
    Case("staff:request_detail", "handler", lambda r: [r.department_detail.pk], 10),
    Case("staff:triage_queue", "clerk", NO_ARGS, 7),  # + 我包联的村/网格
    Case("staff:department_queue", "handler", NO_ARGS, 5),
    Case("staff:supervision_list", "township", NO_ARGS, 5),
    Case("staff:return_visit_queue", "clerk", NO_ARGS, 6),
    Case("staff:duplicate_list", "clerk", NO_ARGS, 6),
    Case("staff:notice_list", "clerk", NO_ARGS, 8),
    Case("staff:notice_detail", "township", lambda r: [r.notice.pk], 7),
    Case("staff:service_day", "clerk", NO_ARGS, 8),
    Case("staff:work_lists", "clerk", NO_ARGS, 13),
    Case("staff:reports", "clerk", NO_ARGS, 7),
    Case("staff:job_detail", "clerk", lambda r: [r.job.pk], 5),
    Case("staff:monthly_village", "clerk", lambda r: [f"{r.month:%Y-%m}", r.village.pk], 6),
    Case("staff:monthly_township", "township", lambda r: [f"{r.month:%Y-%m}"], 5),
    Case("staff:quarterly_review", "township", lambda r: [r.quarter], 9),
    Case("grids:household_list", "clerk", NO_ARGS, 9),
    Case("grids:representative_list", "clerk", NO_ARGS, 7),
    Case("grids:import_roster", "clerk", NO_ARGS, 5),
    Case("grids:import_territory", "township", NO_ARGS, 4),
    Case("deliberation:body_list", "clerk", NO_ARGS, 6),
    Case("deliberation:body_detail", "clerk", lambda r: [r.body.pk], 8),
    Case("deliberation:body_create", "clerk", NO_ARGS, 6),
    Case("deliberation:meeting_list", "clerk", NO_ARGS, 7),
    Case("deliberation:meeting_create", "clerk", NO_ARGS, 8),
    Case("deliberation:ballot_create", "clerk", NO_ARGS, 6),
    Case("deliberation:rule_version_list", "clerk", NO_ARGS, 6),
    Case("deliberation:rule_version_create", "clerk", NO_ARGS, 7),
]
# Routes under /rep/ and /staff/ that are not pages: each only takes a POST (and says so).
POST_ONLY = {
    "rep:request_action",
    "rep:notice_confirm",
    "rep:work_item_done",
    "staff:request_action",
    "staff:reports_run",
}
# Pages of other apps whose count grows with rows, with the counts measured (10 rows → 1,000),
# reported to their owners; strict, so that the test turns red once the page is fixed and the
# entry must go. None grows at present.
GROWING: dict[str, str] = {}


def measured_routes() -> dict[str, str]:
    """Every named route whose path starts with rep/ or staff/, from the URL configuration."""

    def walk(patterns, prefix: str, namespace: str):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield prefix + str(pattern.pattern), f"{namespace}{pattern.name}"

    return {
        name: route
        for route, name in walk(get_resolver().url_patterns, "", "")
        if route.startswith(("rep/", "staff/"))
    }


def test_every_rep_and_staff_route_is_measured():
    routes = measured_routes()
    assert len(routes) > 30, routes  # the enumeration itself found the pages
    covered = {case.name for case in CASES} | POST_ONLY
    assert sorted(set(routes) - covered) == [], "pages under /rep/ or /staff/ without a count"
    assert sorted(covered - set(routes)) == [], "measured names that are no longer routes"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(POST_ONLY))
def test_post_only_routes_refuse_a_get(name, representative, login):
    url = reverse(name, kwargs=_post_only_kwargs(name))
    assert login(representative.user).get(url).status_code == 405


def _post_only_kwargs(name: str) -> dict:
    return {
        "rep:request_action": {"pk": 1, "action": "progress"},
        "staff:request_action": {"pk": 1, "action": "progress"},
        "rep:notice_confirm": {"pk": 1},
        "rep:work_item_done": {"pk": 1},
        "staff:reports_run": {},
    }[name]


def _count(client: Client, url: str, status: int) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return len(ctx.captured_queries)


@pytest.fixture(scope="module")
def measured(django_db_setup, django_db_blocker) -> dict[str, tuple[int, int]]:
    """(queries with 10 rows, queries with 1,000 rows) for every case, measured once; all the
    rows are rolled back at the end."""
    results: dict[str, tuple[int, int]] = {}
    with django_db_blocker.unblock(), transaction.atomic():
        cache.clear()
        township = TownshipFactory(code="430903106", name="欧江岔镇")
        village = VillageFactory(township=township, code="430903106201", name="长东湖村")
        grid = GridFactory(village=village, code="430903106201001", name="第一网格")
        representative = representative_user(grid, households=6)
        clerk = user_with_scope(Role.VILLAGE_STAFF, village=village, is_staff=True)
        township_user = user_with_scope(Role.TOWNSHIP_STAFF, township=township, is_staff=True)
        department = DepartmentFactory(township=township, name="农业农村办")
        handler = department_handler(department)
        users = {
            "rep": representative.user,
            "clerk": clerk,
            "township": township_user,
            "handler": handler,
        }
        clients = {}
        for who, user in users.items():
            clients[who] = Client()
            clients[who].force_login(user)
        rows = Rows(
            representative=representative,
            clerk=clerk,
            township_user=township_user,
            department=department,
        )
        small: dict[str, int] = {}
        rows.add(10)
        for case in CASES:
            url = reverse(case.name, args=case.args(rows))
            _count(clients[case.who], url, case.status)  # warm: sessions, caches
            small[case.id] = _count(clients[case.who], url, case.status)
        rows.add(990)
        for case in CASES:
            url = reverse(case.name, args=case.args(rows))
            results[case.id] = (small[case.id], _count(clients[case.who], url, case.status))
        transaction.set_rollback(True)
    cache.clear()
    return results


@pytest.mark.django_db
@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            case,
            id=case.id,
            marks=[pytest.mark.xfail(strict=True, reason=GROWING[case.name])]
            if case.name in GROWING
            else [],
        )
        for case in CASES
    ],
)
def test_page_query_count_does_not_grow(case, measured):
    small, large = measured[case.id]
    assert small == large, f"{case.id}: {small} queries with 10 rows, {large} with 1,000"
    assert large <= case.pinned, f"{case.id}: {large} queries"


# --- writes ------------------------------------------------------------------------------------


@pytest.fixture
def rows(representative, village_clerk, township_staff, department):
    return Rows(
        representative=representative,
        clerk=village_clerk,
        township_user=township_staff,
        department=department,
    )


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
                reverse("staff:request_action", args=[request.pk, "triage"]),
                {"level": "grid"},
            )
        request.refresh_from_db()
        assert request.status == S.TRIAGED
        return len(visit_ctx.captured_queries), len(triage_ctx.captured_queries)

    rows.add(10)
    small = post_counts()
    rows.add(990)
    assert post_counts() == small

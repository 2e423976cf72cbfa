"""Reads of the request closed loop, notices and work lists, each scoped to the user asking.

Overdue is computed here from the deadline and the clock, never stored: a stored flag would be
wrong the minute after a nightly job wrote it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.access import NOTHING, UserScope
from grids.models import Grid, Household, Representative, Role, Village, Visit
from grids.validators import parse_id

from .models import (
    CatalogueItem,
    Department,
    DepartmentMember,
    Notice,
    NoticeDelivery,
    Request,
    RequestCategory,
    RequestEvent,
    WorkList,
    WorkListDone,
    WorkListItem,
)

Status = Request.Status
Level = Request.Level


# --- scope ------------------------------------------------------------------------------------


def request_scope_q(scope: UserScope) -> Q:
    """Requests this user may see: deny by default."""
    if scope.is_superuser:
        return Q()
    if scope.role == Role.REPRESENTATIVE:
        if scope.representative_id is None:
            return NOTHING
        return Q(representative_id=scope.representative_id, grid_id=scope.grid_id)
    if scope.role == Role.GRID_LEADER:
        return Q(grid_id=scope.grid_id)
    if scope.role == Role.VILLAGE_STAFF:
        return Q(village_id=scope.village_id)
    if scope.role == Role.TOWNSHIP_STAFF:
        return Q(village__township_id=scope.township_id)
    if scope.role == Role.DEPARTMENT_HANDLER:
        return Q(
            department_id__in=DepartmentMember.objects.filter(user_id=scope.user_id).values(
                "department_id"
            )
        )
    return NOTHING


def overdue_q(now: dt.datetime | None = None) -> Q:
    """Past the handling deadline, or a 政事 whose department has not acknowledged in time."""
    now = now or timezone.now()
    return Q(status__in=Request.HANDLING_STATUSES, deadline__lt=now) | Q(
        status=Status.TRIAGED, level=Level.TOWNSHIP, ack_deadline__lt=now
    )


def request_is_overdue(request: Request, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    if request.status in Request.HANDLING_STATUSES and request.deadline and request.deadline < now:
        return True
    return bool(
        request.status == Status.TRIAGED
        and request.level == Level.TOWNSHIP
        and request.ack_deadline
        and request.ack_deadline < now
    )


def _with_overdue(qs: QuerySet[Request], now: dt.datetime) -> QuerySet[Request]:
    from django.db.models import BooleanField, Case, When

    return qs.annotate(
        overdue=Case(
            When(overdue_q(now), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def _list_related(qs: QuerySet[Request]) -> QuerySet[Request]:
    """What the request tables show: place, category, department (no household or person)."""
    return qs.select_related("village", "grid", "category", "department")


# --- request lists ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestFilters:
    village_id: int | None = None
    grid_id: int | None = None
    status: str = ""
    level: str = ""
    category_id: int | None = None
    kind: str = ""
    overdue: bool = False
    search: str = ""


def request_list(
    *, scope: UserScope, filters: RequestFilters | None = None, now: dt.datetime | None = None
) -> QuerySet[Request]:
    """The staff list: scoped, filtered, newest first; each row knows whether it is overdue."""
    now = now or timezone.now()
    filters = filters or RequestFilters()
    qs = Request.objects.filter(request_scope_q(scope))
    if filters.village_id:
        qs = qs.filter(village_id=filters.village_id)
    if filters.grid_id:
        qs = qs.filter(grid_id=filters.grid_id)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.level:
        qs = qs.filter(level=filters.level)
    if filters.category_id:
        qs = qs.filter(category_id=filters.category_id)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.overdue:
        qs = qs.filter(overdue_q(now))
    search = filters.search.strip()
    if search:
        condition = Q(title__contains=search) | Q(description__contains=search)
        if parse_id(search.lstrip("#")) is not None:
            condition |= Q(pk=parse_id(search.lstrip("#")))
        condition |= Q(household__number=search)
        qs = qs.filter(condition)
    return _with_overdue(_list_related(qs), now).order_by("-reported_at", "-id")


def triage_queue(*, scope: UserScope) -> QuerySet[Request]:
    """三事分流: reported requests waiting for a level, oldest first; escalations marked."""
    if not scope.is_staff_role:
        return Request.objects.none()
    return _list_related(
        Request.objects.filter(request_scope_q(scope), status=Status.REPORTED)
    ).order_by("reported_at", "id")


def department_queue(*, scope: UserScope, now: dt.datetime | None = None) -> QuerySet[Request]:
    """A department handler's open requests, the most urgent deadline first."""
    now = now or timezone.now()
    if scope.role != Role.DEPARTMENT_HANDLER and not scope.is_superuser:
        return Request.objects.none()
    qs = Request.objects.filter(
        request_scope_q(scope),
        level=Level.TOWNSHIP,
        status__in=Request.HANDLING_STATUSES + (Status.RESOLVED,),
    ).annotate(supervision_count=Count("supervisions"))
    return _with_overdue(_list_related(qs), now).order_by(
        F("ack_deadline").asc(nulls_last=True), "deadline", "id"
    )


def supervision_list(*, scope: UserScope, now: dt.datetime | None = None) -> QuerySet[Request]:
    """督办: the township's overdue or unacknowledged requests, with their latest 督办 note."""
    now = now or timezone.now()
    if not scope.is_township:
        return Request.objects.none()
    qs = Request.objects.filter(request_scope_q(scope)).filter(overdue_q(now))
    qs = qs.annotate(
        supervision_count=Count("supervisions"), last_supervised_at=Max("supervisions__at")
    )
    return _with_overdue(_list_related(qs), now).order_by("deadline", "id")


def return_visit_queue(*, scope: UserScope) -> QuerySet[Request]:
    """回访: resolved requests waiting for the resident's satisfaction."""
    if not scope.is_staff_role:
        return Request.objects.none()
    return _list_related(
        Request.objects.filter(request_scope_q(scope), status=Status.RESOLVED)
    ).order_by("resolved_at", "id")


def duplicate_list(*, scope: UserScope) -> QuerySet[Request]:
    if not scope.is_staff_role:
        return Request.objects.none()
    return _list_related(
        Request.objects.filter(request_scope_q(scope), status=Status.DUPLICATE).select_related(
            "duplicate_of"
        )
    ).order_by("-reported_at", "-id")


def request_detail(*, scope: UserScope, request_id: int, now: dt.datetime | None = None) -> Request:
    """One request with its timeline, 督办 notes and 回访; DoesNotExist outside the scope (→ 404)."""
    now = now or timezone.now()
    qs = Request.objects.filter(request_scope_q(scope)).select_related(
        "village__township",
        "grid",
        "household__head",
        "category",
        "catalogue_item",
        "department",
        "handler",
        "representative__resident",
        "duplicate_of__department",
        "source_visit",
    )
    qs = qs.prefetch_related(
        Prefetch(
            "events", queryset=RequestEvent.objects.select_related("actor").order_by("at", "id")
        ),
        "supervisions__by",
        "return_visits__by",
        Prefetch("duplicates", queryset=Request.objects.only("id", "title", "duplicate_of_id")),
    )
    return _with_overdue(qs, now).get(pk=request_id)


def request_visible(*, scope: UserScope, request_id: int) -> bool:
    """Whether the user may open this request (e.g. the original of a duplicate they see)."""
    return Request.objects.filter(request_scope_q(scope), pk=request_id).exists()


def request_original_for(*, scope: UserScope, request_id: int) -> Request:
    """The request another one is marked a duplicate of, within the user's scope."""
    return (
        Request.objects.filter(request_scope_q(scope)).select_related("village").get(pk=request_id)
    )


# --- representative's phone pages -------------------------------------------------------------


@dataclass(frozen=True)
class HouseholdRow:
    household: Household
    last_visit: dt.datetime | None
    days_since: int | None
    visit_overdue: bool


def rep_households(*, scope: UserScope, now: dt.datetime | None = None) -> list[HouseholdRow]:
    """My households: priority tags first, then the longest unvisited; one query."""
    now = now or timezone.now()
    if not scope.is_representative:
        return []
    qs = (
        Household.objects.filter(scope.household_q(""))
        .select_related("head", "village")
        .annotate(last_visit=Max("visits__visited_at"))
        .order_by("-priority", F("last_visit").asc(nulls_first=True), "number")
    )
    rows = []
    today = timezone.localdate(now)
    for household in qs:
        last = household.last_visit
        days = (today - timezone.localdate(last)).days if last else None
        cadence = household.village.visit_cadence_days
        rows.append(
            HouseholdRow(
                household=household,
                last_visit=last,
                days_since=days,
                visit_overdue=days is None or days > cadence,
            )
        )
    return rows


def rep_household_choices(*, scope: UserScope) -> QuerySet[Household]:
    if not scope.is_representative:
        return Household.objects.none()
    return (
        Household.objects.filter(scope.household_q(""))
        .select_related("head")
        .order_by("-priority", "number")
    )


def rep_household(*, scope: UserScope, household_id: int) -> Household:
    """One of my households (DoesNotExist otherwise → 404)."""
    return (
        rep_household_choices(scope=scope).select_related("village__township").get(pk=household_id)
    )


def rep_representative(*, scope: UserScope) -> Representative | None:
    if scope.representative_id is None:
        return None
    return Representative.objects.select_related("grid__village").get(pk=scope.representative_id)


def rep_open_requests(*, scope: UserScope, now: dt.datetime | None = None) -> QuerySet[Request]:
    """My open requests, nearest deadline first."""
    now = now or timezone.now()
    if not scope.is_representative:
        return Request.objects.none()
    qs = Request.objects.filter(request_scope_q(scope), status__in=Request.OPEN_STATUSES)
    return _with_overdue(qs.select_related("household"), now).order_by(
        F("deadline").asc(nulls_last=True), "-reported_at"
    )


def rep_requests(*, scope: UserScope, now: dt.datetime | None = None) -> QuerySet[Request]:
    now = now or timezone.now()
    if not scope.is_representative:
        return Request.objects.none()
    qs = Request.objects.filter(request_scope_q(scope)).select_related("household")
    return _with_overdue(qs, now).order_by("-reported_at", "-id")


def rep_visit(*, scope: UserScope, visit_id: int) -> Visit:
    """One of my visits (DoesNotExist otherwise → 404)."""
    if scope.representative_id is None:
        raise Visit.DoesNotExist
    return Visit.objects.select_related("household__head").get(
        pk=visit_id, representative_id=scope.representative_id
    )


def visit_requests(*, scope: UserScope, visit: Visit) -> QuerySet[Request]:
    return Request.objects.filter(request_scope_q(scope), source_visit=visit).order_by("id")


def month_start(now: dt.datetime | None = None) -> dt.date:
    return timezone.localdate(now or timezone.now()).replace(day=1)


@dataclass(frozen=True)
class WorkItemRow:
    item: WorkListItem
    done_households: int
    done_for_grid: bool
    done_for_household: bool = False


def rep_work_list(
    *, scope: UserScope, now: dt.datetime | None = None, household_id: int | None = None
) -> list[WorkItemRow]:
    """This month's village work list with what I have marked done (one query); with
    ``household_id`` (the visit-done page), also whether that household is done."""
    if not scope.is_representative:
        return []
    month = month_start(now)
    my_households = Household.objects.filter(scope.household_q("")).values("pk")
    items = (
        WorkListItem.objects.filter(work_list__village_id=scope.village_id, work_list__month=month)
        .select_related("catalogue_item")
        .annotate(
            done_households=Count(
                "done", filter=Q(done__household_id__in=my_households), distinct=True
            ),
            grid_done=Exists(
                WorkListDone.objects.filter(
                    item_id=OuterRef("pk"), household__isnull=True, grid_id=scope.grid_id
                )
            ),
            household_done=Exists(
                WorkListDone.objects.filter(item_id=OuterRef("pk"), household_id=household_id)
            )
            if household_id
            else Value(False),
        )
        .order_by("id")
    )
    return [
        WorkItemRow(
            item=i,
            done_households=i.done_households,
            done_for_grid=i.grid_done,
            done_for_household=i.household_done,
        )
        for i in items
    ]


def rep_work_item(*, scope: UserScope, item_id: int) -> WorkListItem:
    return WorkListItem.objects.select_related("work_list").get(
        pk=item_id, work_list__village_id=scope.village_id
    )


def _notice_target_q(village: Village) -> Q:
    return Q(township_id=village.township_id) & (Q(village__isnull=True) | Q(village_id=village.pk))


def rep_notice_list(*, scope: UserScope) -> QuerySet[Notice]:
    """Notices for my village (its own and the township's), newest first, to be paginated."""
    if not scope.is_representative:
        return Notice.objects.none()
    return Notice.objects.filter(
        Q(township_id=scope.township_id)
        & (Q(village__isnull=True) | Q(village_id=scope.village_id))
    ).order_by("-published_at", "-id")


def rep_notice_rows(
    *, scope: UserScope, notices: list[Notice]
) -> list[tuple[Notice, list[tuple[Household, bool]]]]:
    """For a page of notices, per household of mine, whether it was confirmed (two queries)."""
    if not scope.is_representative or not notices:
        return []
    households = list(rep_household_choices(scope=scope))
    confirmed = set(
        NoticeDelivery.objects.filter(
            notice__in=notices, household__in=[h.pk for h in households]
        ).values_list("notice_id", "household_id")
    )
    return [
        (notice, [(h, (notice.pk, h.pk) in confirmed) for h in households]) for notice in notices
    ]


def rep_notice(*, scope: UserScope, notice_id: int) -> Notice:
    village = Village.objects.get(pk=scope.village_id)
    return Notice.objects.filter(_notice_target_q(village)).get(pk=notice_id)


# --- staff: notices, choices ------------------------------------------------------------------


def notice_coverage(*, scope: UserScope) -> QuerySet[Notice]:
    """Notices the user may see with delivered / target households (one query)."""
    if not scope.is_staff_role:
        return Notice.objects.none()
    visible_villages = scope.villages().values("pk")
    if scope.is_superuser:
        qs = Notice.objects.all()
    elif scope.role == Role.TOWNSHIP_STAFF:
        qs = Notice.objects.filter(township_id=scope.township_id)
    else:
        qs = Notice.objects.filter(township_id=scope.township_id).filter(
            Q(village__isnull=True) | Q(village_id=scope.village_id)
        )
    village_households = (
        Household.objects.filter(village_id=OuterRef("village_id"))
        .values("village_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    township_households = (
        Household.objects.filter(
            village__township_id=OuterRef("township_id"), village_id__in=visible_villages
        )
        .values("village__township_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    delivered = (
        NoticeDelivery.objects.filter(
            notice_id=OuterRef("pk"), household__village_id__in=visible_villages
        )
        .values("notice_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        qs.select_related("village", "published_by")
        .annotate(
            target_village=Coalesce(Subquery(village_households, output_field=IntegerField()), 0),
            target_township=Coalesce(Subquery(township_households, output_field=IntegerField()), 0),
            delivered=Coalesce(Subquery(delivered, output_field=IntegerField()), 0),
        )
        .order_by("-published_at", "-id")
    )


@dataclass(frozen=True)
class Coverage:
    """Households told of a notice, of those it was meant for, in one place (a village or grid)."""

    place: object
    delivered: int
    target: int
    parts: list[Coverage]

    @property
    def percent(self) -> int:
        return round(100 * self.delivered / self.target) if self.target else 0


def notice_breakdown(*, scope: UserScope, notice_id: int) -> tuple[Notice, list[Coverage]]:
    """One notice's coverage village by village (a township notice) and grid by grid, within
    what the user may see: four queries whatever the number of villages, grids and households."""
    notice = (
        notice_coverage(scope=scope).select_related("village", "published_by").get(pk=notice_id)
    )
    villages = scope.villages().filter(township_id=notice.township_id)
    if notice.village_id is not None:
        villages = villages.filter(pk=notice.village_id)
    grids = list(
        Grid.objects.filter(village__in=villages)
        .select_related("village")
        .order_by("village__code", "code")
    )
    targets = dict(
        Household.objects.filter(village__in=villages)
        .values("grid_id")
        .annotate(n=Count("pk"))
        .values_list("grid_id", "n")
    )
    delivered = dict(
        NoticeDelivery.objects.filter(notice_id=notice.pk, household__village__in=villages)
        .values("household__grid_id")
        .annotate(n=Count("pk"))
        .values_list("household__grid_id", "n")
    )
    by_village: dict[int, Coverage] = {}
    for grid in grids:
        part = Coverage(
            place=grid,
            delivered=delivered.get(grid.pk, 0),
            target=targets.get(grid.pk, 0),
            parts=[],
        )
        village = by_village.setdefault(
            grid.village_id, Coverage(place=grid.village, delivered=0, target=0, parts=[])
        )
        village.parts.append(part)
    rows = [
        Coverage(
            place=v.place,
            delivered=sum(p.delivered for p in v.parts),
            target=sum(p.target for p in v.parts),
            parts=v.parts,
        )
        for v in by_village.values()
    ]
    return notice, rows


def departments_for(*, scope: UserScope) -> QuerySet[Department]:
    if scope.is_superuser:
        return Department.objects.filter(active=True).order_by("name")
    return Department.objects.filter(township_id=scope.township_id, active=True).order_by("name")


def categories_for(
    *, township_id: int | None, scope: UserScope | None = None
) -> QuerySet[RequestCategory]:
    if township_id is None and scope is not None and scope.is_superuser:
        return RequestCategory.objects.filter(active=True).order_by("name")
    return RequestCategory.objects.filter(township_id=township_id, active=True).order_by("name")


def catalogue_for_villages(*, township_id: int) -> QuerySet[CatalogueItem]:
    """Items a village may be given: not on the 减负 list, not exited."""
    return (
        CatalogueItem.objects.filter(township_id=township_id, exited_on__isnull=True)
        .exclude(list_kind=CatalogueItem.ListKind.BURDEN_RELIEF)
        .order_by("list_kind", "code")
    )


def village_handlers(*, village_id: int):
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(
            scope__role=Role.VILLAGE_STAFF, scope__village_id=village_id, is_active=True
        )
        .order_by("pk")
    )


def work_lists_for(*, scope: UserScope) -> QuerySet[WorkList]:
    if not scope.is_staff_role:
        return WorkList.objects.none()
    return (
        WorkList.objects.filter(village_id__in=scope.villages().values("pk"))
        .select_related("village")
        .prefetch_related("items__catalogue_item")
        .order_by("-month", "village__code")
    )


@dataclass(frozen=True)
class GridProgress:
    grid: Grid
    done: int
    total: int


@dataclass(frozen=True)
class ItemProgress:
    """One work item: households done of the village's households (按户), or grids done of its
    grids (按网格), in total and grid by grid."""

    item: WorkListItem
    done: int
    total: int
    grids: list[GridProgress]

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


@dataclass(frozen=True)
class WorkListProgress:
    work_list: WorkList
    grids: list[Grid]
    items: list[ItemProgress]


def work_list_progress(*, work_lists: list[WorkList]) -> list[WorkListProgress]:
    """Progress of a page of work lists, item by item and grid by grid: three queries whatever
    the number of lists, items, grids and households."""
    village_ids = {wl.village_id for wl in work_lists}
    grids: dict[int, list[Grid]] = {}
    for grid in Grid.objects.filter(village_id__in=village_ids).order_by("code"):
        grids.setdefault(grid.village_id, []).append(grid)
    households = dict(
        Household.objects.filter(village_id__in=village_ids)
        .values("grid_id")
        .annotate(n=Count("pk"))
        .values_list("grid_id", "n")
    )
    done: dict[tuple[int, int], int] = {
        (row["item_id"], row["grid_id"]): row["n"]
        for row in WorkListDone.objects.filter(item__work_list__in=[wl.pk for wl in work_lists])
        .values("item_id", "grid_id")
        .annotate(n=Count("pk"))
    }
    result = []
    for work_list in work_lists:
        village_grids = grids.get(work_list.village_id, [])
        items = []
        for item in work_list.items.all():
            rows = [
                GridProgress(
                    grid=grid,
                    done=done.get((item.pk, grid.pk), 0),
                    total=households.get(grid.pk, 0) if item.per_household else 1,
                )
                for grid in village_grids
            ]
            items.append(
                ItemProgress(
                    item=item,
                    done=sum(r.done for r in rows),
                    total=sum(r.total for r in rows),
                    grids=rows,
                )
            )
        result.append(WorkListProgress(work_list=work_list, grids=village_grids, items=items))
    return result


# --- 邻里服务日 (neighbour service day) ----------------------------------------------------------


def first_monday(year: int, month: int) -> dt.date:
    return service_day_in_month(year, month)


def service_day_in_month(year: int, month: int, *, week: int = 1, weekday: int = 0) -> dt.date:
    """The ``week``-th ``weekday`` (Monday = 0) of the month; weeks 1-4 exist in every month."""
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (week - 1))


def _month_after(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _month_before(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def next_service_day(today: dt.date | None = None, *, week: int = 1, weekday: int = 0) -> dt.date:
    """The next 邻里服务日 on or after ``today``: this month's, or next month's once it has passed."""
    today = today or timezone.localdate()
    day = service_day_in_month(today.year, today.month, week=week, weekday=weekday)
    if day >= today:
        return day
    return service_day_in_month(*_month_after(today.year, today.month), week=week, weekday=weekday)


@dataclass(frozen=True)
class ServiceDayPlan:
    """A village's service-day rule and the day shown, with the days before and after it."""

    week: int
    weekday: int
    day: dt.date
    previous: dt.date
    following: dt.date
    is_default: bool

    @property
    def rule_label(self) -> str:
        from .models import ServiceDaySetting

        return _("%(week)s%(weekday)s") % {
            "week": ServiceDaySetting.Week(self.week).label,
            "weekday": ServiceDaySetting.Weekday(self.weekday).label,
        }


def service_day_plan(
    *, village_id: int, day: dt.date | None = None, today: dt.date | None = None
) -> ServiceDayPlan:
    """The village's rule (default: the first Monday) and the service day to show: ``day`` if it
    is one of the village's service days, else the coming one."""
    from .models import ServiceDaySetting

    setting = ServiceDaySetting.objects.filter(village_id=village_id).first()
    week, weekday = (setting.week, setting.weekday) if setting else (1, 0)
    rule = {"week": week, "weekday": weekday}
    if day is None or day != service_day_in_month(day.year, day.month, **rule):
        day = next_service_day(today, **rule)
    return ServiceDayPlan(
        week=week,
        weekday=weekday,
        day=day,
        previous=service_day_in_month(*_month_before(day.year, day.month), **rule),
        following=service_day_in_month(*_month_after(day.year, day.month), **rule),
        is_default=setting is None,
    )


def _local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    return start, start + dt.timedelta(days=1)


@dataclass(frozen=True)
class ServiceDayGroup:
    representative: Representative | None
    orders: list[Request]


def service_day_orders(
    *, scope: UserScope, village_id: int, day: dt.date | None = None
) -> list[ServiceDayGroup]:
    """The 点单 for one service day of a village, grouped by representative (printed lists).

    An order belongs to the day when it was reported by the end of that day (local time) and was
    still waiting when the day began: not yet done, or done on or after that day.
    """
    if not scope.is_staff_role:
        return []
    day = day or service_day_plan(village_id=village_id).day
    start, end = _local_day_bounds(day)
    waiting = Q(status__in=(Status.REPORTED, *Request.HANDLING_STATUSES)) | Q(
        resolved_at__gte=start
    )
    orders = (
        Request.objects.filter(
            request_scope_q(scope),
            village_id=village_id,
            kind=Request.Kind.SERVICE_ORDER,
            reported_at__lt=end,
        )
        .exclude(status=Status.DUPLICATE)
        .filter(waiting)
        .select_related(
            "household__head",
            "grid",
            "representative__resident",
            "representative__grid",
            "category",
        )
        .order_by("representative__grid__code", "representative_id", "household__number", "id")
    )
    groups: list[ServiceDayGroup] = []
    for order in orders:
        if not groups or groups[-1].representative != order.representative:
            groups.append(ServiceDayGroup(representative=order.representative, orders=[]))
        groups[-1].orders.append(order)
    return groups


@dataclass(frozen=True)
class PublicRequestFigures:
    year: int
    received: int
    resolved: int
    resolved_in_grid: int
    rated: int
    satisfied: int

    @property
    def satisfaction_percent(self) -> int | None:
        return round(100 * self.satisfied / self.rated) if self.rated else None


def public_request_figures(
    *, village_id: int, now: dt.datetime | None = None
) -> PublicRequestFigures:
    """The village's request handling this year, for the public board: counts only, one query."""
    now = timezone.localtime(now or timezone.now())
    start = now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    done = Q(status__in=[Request.Status.RESOLVED, Request.Status.CLOSED], resolved_at__isnull=False)
    figures = (
        Request.objects.filter(village_id=village_id, reported_at__gte=start)
        .exclude(status=Request.Status.DUPLICATE)
        .aggregate(
            received=Count("pk"),
            resolved=Count("pk", filter=done),
            resolved_in_grid=Count(
                "pk", filter=done & Q(resolved_level=Request.Level.GRID, escalated=False)
            ),
            rated=Count("pk", filter=~Q(satisfaction="")),
            satisfied=Count(
                "pk",
                filter=Q(
                    satisfaction__in=[
                        Request.Satisfaction.SATISFIED,
                        Request.Satisfaction.BASICALLY,
                    ]
                ),
            ),
        )
    )
    return PublicRequestFigures(year=now.year, **figures)

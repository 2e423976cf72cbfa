"""村级一月一分析、镇级汇总, 红旗网格员 and the township's 一季一点评.

Every figure family is one set-based query over the whole month's rows, grouped by village
(``GROUP BY village``); Python only folds the grouped rows (a few per village) into the
snapshot. Months are calendar months in Asia/Shanghai local time: a visit at 23:59 on the
31st counts in that month, one at 00:00 on the 1st in the next. Definitions are written down
in docs/reports.md; the tests compare every figure with an independent raw SQL count.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from deliberation.models import Attendance, Commitment, Meeting, RuleVersion
from grids.batches import unit_transaction, village_batches
from grids.models import Household, Representative, Township, Village, Visit
from points.models import LedgerEntry

from .models import MonthlyReport, Request, ReturnVisit

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")

# Additive counts: the township's figure is the sum of its villages'.
ADDITIVE = (
    "households",
    "visits",
    "visited_households",
    "representatives",
    "active_representatives",
    "requests",
    "escalated",
    "resolved",
    "resolved_in_grid",
    "resolve_days_sum",
    "overdue",
    "return_visits",
    "satisfied",
    "consultations_answered",
    "points_awarded",
    "points_deducted",
    "points_redeemed",
    "meetings_held",
    "attendance",
    "committed_households",
)
BREAKDOWNS = ("by_kind", "by_category", "by_level", "by_status")
# The figures whose month-on-month change the report shows.
CHANGE_KEYS = (
    "visits",
    "visited_households",
    "coverage",
    "requests",
    "resolved",
    "resolved_in_grid",
    "overdue",
    "satisfaction_rate",
    "points_awarded",
    "meetings_held",
)
RED_FLAG_WEIGHTS = {"coverage": 0.5, "resolution": 0.3, "satisfaction": 0.2}
RED_FLAG_PER_VILLAGE = 3


# --- months -------------------------------------------------------------------------------------


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def parse_month(value: str) -> dt.date:
    match = MONTH_RE.match(value or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValidationError(_("月份格式应为 YYYY-MM，例如 2026-10"))
    from points.lists import year_check

    year_check(int(match.group(1)))
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def previous_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Aware local datetimes [first 00:00, next first 00:00) in Asia/Shanghai."""
    zone = local_zone()
    start = dt.datetime(month.year, month.month, 1, tzinfo=zone)
    following = next_month(month)
    return start, dt.datetime(following.year, following.month, 1, tzinfo=zone)


def _pct(part: int | float, whole: int | float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


# --- figure families ----------------------------------------------------------------------------


def _households(vids):
    """Households on the roster when the snapshot is taken (the roster has no history)."""
    rows = (
        Household.objects.filter(village_id__in=vids)
        .values("village_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {r["village_id"]: {"households": r["n"]} for r in rows}


def _visits(vids, start, end):
    rows = (
        Visit.objects.filter(
            household__village_id__in=vids, visited_at__gte=start, visited_at__lt=end
        )
        .values(vid=F("household__village_id"))
        .annotate(
            visits=Count("id"),
            visited_households=Count("household_id", distinct=True),
            active_representatives=Count("representative_id", distinct=True),
        )
        .order_by()
    )
    return {r.pop("vid"): r for r in rows}


def _active_representatives_q(start_day: dt.date, end_day: dt.date) -> Q:
    return Q(appointed_on__lt=end_day) & (Q(ended_on__isnull=True) | Q(ended_on__gte=start_day))


def _representatives(vids, start_day, end_day):
    rows = (
        Representative.objects.filter(
            _active_representatives_q(start_day, end_day), grid__village_id__in=vids
        )
        .values(vid=F("grid__village_id"))
        .annotate(n=Count("id"))
        .order_by()
    )
    return {r["vid"]: {"representatives": r["n"]} for r in rows}


def _reported(vids, start, end):
    """Requests reported in the month (duplicates excluded), by kind/category/level/status."""
    rows = (
        Request.objects.filter(village_id__in=vids, reported_at__gte=start, reported_at__lt=end)
        .exclude(status=Request.Status.DUPLICATE)
        .values("village_id", "kind", "level", "status", cat=F("category__name"))
        .annotate(n=Count("id"), escalated=Count("id", filter=Q(escalated=True)))
        .order_by()
    )
    out: dict[int, dict] = defaultdict(
        lambda: {"requests": 0, "escalated": 0, **{b: defaultdict(int) for b in BREAKDOWNS}}
    )
    for r in rows:
        fig = out[r["village_id"]]
        fig["requests"] += r["n"]
        fig["escalated"] += r["escalated"]
        fig["by_kind"][r["kind"]] += r["n"]
        fig["by_category"][r["cat"] or _("未分类")] += r["n"]
        fig["by_level"][r["level"] or "untriaged"] += r["n"]
        fig["by_status"][r["status"]] += r["n"]
    return out


def _resolved(vids, start, end):
    took = ExpressionWrapper(F("resolved_at") - F("reported_at"), output_field=DurationField())
    rows = (
        Request.objects.filter(village_id__in=vids, resolved_at__gte=start, resolved_at__lt=end)
        .exclude(status=Request.Status.DUPLICATE)
        .values("village_id")
        .annotate(
            resolved=Count("id"),
            resolved_in_grid=Count(
                "id", filter=Q(resolved_level=Request.Level.GRID, escalated=False)
            ),
            consultations_answered=Count("id", filter=Q(kind=Request.Kind.CONSULTATION)),
            took=Sum(took),
        )
        .order_by()
    )
    out = {}
    for r in rows:
        took_total = r.pop("took") or dt.timedelta(0)
        r["resolve_days_sum"] = round(took_total.total_seconds() / 86400, 4)
        out[r.pop("village_id")] = r
    return out


def _overdue(vids, start, end):
    """Requests whose handling deadline fell in the month and that were not resolved by it."""
    rows = (
        Request.objects.filter(village_id__in=vids, deadline__gte=start, deadline__lt=end)
        .exclude(status=Request.Status.DUPLICATE)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=F("deadline")))
        .values("village_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {r["village_id"]: {"overdue": r["n"]} for r in rows}


def _satisfaction(vids, start, end):
    good = [Request.Satisfaction.SATISFIED, Request.Satisfaction.BASICALLY]
    rows = (
        ReturnVisit.objects.filter(request__village_id__in=vids, at__gte=start, at__lt=end)
        .values(vid=F("request__village_id"))
        .annotate(return_visits=Count("id"), satisfied=Count("id", filter=Q(satisfaction__in=good)))
        .order_by()
    )
    return {r.pop("vid"): r for r in rows}


def _points(vids, start_day, end_day):
    kinds = LedgerEntry.Kind
    rows = (
        LedgerEntry.objects.filter(
            account__household__village_id__in=vids,
            occurred_on__gte=start_day,
            occurred_on__lt=end_day,
        )
        .values(vid=F("account__household__village_id"))
        .annotate(
            awarded=Sum("points", filter=Q(kind=kinds.AWARD)),
            deducted=Sum("points", filter=Q(kind=kinds.DEDUCTION)),
            redeemed=Sum("points", filter=Q(kind=kinds.REDEMPTION)),
        )
        .order_by()
    )
    return {
        r["vid"]: {
            "points_awarded": r["awarded"] or 0,
            "points_deducted": -(r["deducted"] or 0),
            "points_redeemed": -(r["redeemed"] or 0),
        }
        for r in rows
    }


def _meetings(vids, start, end):
    held = Meeting.objects.filter(
        village_id__in=vids, status=Meeting.Status.HELD, held_at__gte=start, held_at__lt=end
    )
    meetings = held.values("village_id").annotate(n=Count("id")).order_by()
    attendance = (
        Attendance.objects.filter(meeting__in=held)
        .values(vid=F("meeting__village_id"))
        .annotate(n=Count("id"))
        .order_by()
    )
    out: dict[int, dict] = defaultdict(dict)
    for r in meetings:
        out[r["village_id"]]["meetings_held"] = r["n"]
    for r in attendance:
        out[r["vid"]]["attendance"] = r["n"]
    return out


def _commitments(vids, start_day, end_day, end):
    """Households that signed the rule version in force on the month's last day."""
    last_day = end_day - dt.timedelta(days=1)
    in_force = RuleVersion.objects.filter(
        rule__village_id__in=vids,
        status__in=[RuleVersion.Status.IN_FORCE, RuleVersion.Status.SUPERSEDED],
        in_force_from__lte=last_day,
    ).filter(Q(superseded_at__isnull=True) | Q(superseded_at__gte=end))
    rows = (
        Commitment.objects.filter(version__in=in_force, signed_on__lt=end_day)
        .values(vid=F("household__village_id"))
        .annotate(n=Count("household_id", distinct=True))
        .order_by()
    )
    return {r["vid"]: {"committed_households": r["n"]} for r in rows}


def _needing_attention(vids, start, end, start_day, end_day):
    """Representatives in office during the month who recorded no visit in it."""
    visited = Visit.objects.filter(
        representative=OuterRef("pk"), visited_at__gte=start, visited_at__lt=end
    )
    rows = (
        Representative.objects.filter(
            _active_representatives_q(start_day, end_day), grid__village_id__in=vids
        )
        .exclude(Exists(visited))
        .values("id", "grid__village_id", name=F("resident__name"), grid_name=F("grid__name"))
        .order_by("grid__code", "id")
    )
    out: dict[int, list] = defaultdict(list)
    for r in rows:
        out[r["grid__village_id"]].append(
            {"id": r["id"], "name": r["name"], "grid": r["grid_name"]}
        )
    return out


def _red_flag(vids, start, end, start_day, end_day):
    """红旗网格员: see docs/reports.md for the formula (weights in RED_FLAG_WEIGHTS)."""
    reps = {
        r["id"]: r
        for r in Representative.objects.filter(
            _active_representatives_q(start_day, end_day), grid__village_id__in=vids
        ).values(
            "id", vid=F("grid__village_id"), name=F("resident__name"), grid_name=F("grid__name")
        )
    }
    # The villages' representatives as a join, not a list of ~10,000 ids in every statement.
    in_villages = Q(representative__grid__village_id__in=vids)
    assigned = dict(
        Household.objects.filter(in_villages)
        .values("representative_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("representative_id", "n")
    )
    visited = dict(
        Visit.objects.filter(in_villages, visited_at__gte=start, visited_at__lt=end)
        .values("representative_id")
        .annotate(n=Count("household_id", distinct=True))
        .order_by()
        .values_list("representative_id", "n")
    )
    requests = {
        r["representative_id"]: r
        for r in Request.objects.filter(in_villages, reported_at__gte=start, reported_at__lt=end)
        .exclude(status=Request.Status.DUPLICATE)
        .values("representative_id")
        .annotate(
            n=Count("id"),
            in_grid=Count(
                "id",
                filter=Q(
                    resolved_at__isnull=False, resolved_level=Request.Level.GRID, escalated=False
                ),
            ),
        )
        .order_by()
    }
    good = [Request.Satisfaction.SATISFIED, Request.Satisfaction.BASICALLY]
    feedback = {
        r["rid"]: r
        for r in ReturnVisit.objects.filter(
            request__representative__grid__village_id__in=vids, at__gte=start, at__lt=end
        )
        .values(rid=F("request__representative_id"))
        .annotate(n=Count("id"), good=Count("id", filter=Q(satisfaction__in=good)))
        .order_by()
    }
    by_village: dict[int, list] = defaultdict(list)
    for rid, rep in reps.items():
        if not visited.get(rid):
            continue  # no visit this month: not a candidate
        coverage = min(1.0, visited[rid] / assigned[rid]) if assigned.get(rid) else 0.0
        req = requests.get(rid)
        resolution = req["in_grid"] / req["n"] if req else 1.0
        fb = feedback.get(rid)
        satisfaction = fb["good"] / fb["n"] if fb else 1.0
        score = (
            RED_FLAG_WEIGHTS["coverage"] * coverage
            + RED_FLAG_WEIGHTS["resolution"] * resolution
            + RED_FLAG_WEIGHTS["satisfaction"] * satisfaction
        )
        by_village[rep["vid"]].append(
            {
                "id": rid,
                "name": rep["name"],
                "grid": rep["grid_name"],
                "score": round(100 * score, 1),
                "coverage": round(100 * coverage, 1),
                "resolution": round(100 * resolution, 1),
                "satisfaction": round(100 * satisfaction, 1),
            }
        )
    return {
        vid: sorted(items, key=lambda x: (-x["score"], x["id"]))[:RED_FLAG_PER_VILLAGE]
        for vid, items in by_village.items()
    }


# --- assembling ---------------------------------------------------------------------------------


def _derive(fig: dict) -> dict:
    fig["coverage"] = _pct(fig["visited_households"], fig["households"])
    fig["avg_days_to_resolve"] = (
        round(fig["resolve_days_sum"] / fig["resolved"], 1) if fig["resolved"] else None
    )
    fig["satisfaction_rate"] = _pct(fig["satisfied"], fig["return_visits"])
    fig["grid_resolution_rate"] = _pct(fig["resolved_in_grid"], fig["resolved"])
    fig["commitment_coverage"] = _pct(fig["committed_households"], fig["households"])
    fig["hot_categories"] = [
        [name, n] for name, n in sorted(fig["by_category"].items(), key=lambda kv: (-kv[1], kv[0]))
    ][:5]
    return fig


def _empty() -> dict:
    return {**{k: 0 for k in ADDITIVE}, **{b: {} for b in BREAKDOWNS}}


def village_figures(
    village_ids: list[int], month: dt.date, *, for_change: bool = False
) -> dict[int, dict]:
    """The month's figures for each village: one query per figure family for all villages.

    ``for_change``: only the families that the change column compares (CHANGE_KEYS), for the
    month before in a first run; representatives, commitments, the people needing attention and
    the 红旗网格员 ranking (the dearest family) are left at zero / empty.
    """
    start, end = month_bounds(month)
    start_day, end_day = month, next_month(month)
    families = [
        _households(village_ids),
        _visits(village_ids, start, end),
        _reported(village_ids, start, end),
        _resolved(village_ids, start, end),
        _overdue(village_ids, start, end),
        _satisfaction(village_ids, start, end),
        _points(village_ids, start_day, end_day),
        _meetings(village_ids, start, end),
    ]
    attention: dict[int, list] = {}
    red_flag: dict[int, list] = {}
    if not for_change:
        families.append(_representatives(village_ids, start_day, end_day))
        families.append(_commitments(village_ids, start_day, end_day, end))
        attention = _needing_attention(village_ids, start, end, start_day, end_day)
        red_flag = _red_flag(village_ids, start, end, start_day, end_day)
    result = {}
    for vid in village_ids:
        fig = _empty()
        for family in families:
            for key, value in family.get(vid, {}).items():
                fig[key] = dict(sorted(value.items())) if key in BREAKDOWNS else value
        fig["needing_attention"] = attention.get(vid, [])
        fig["red_flag"] = red_flag.get(vid, [])
        result[vid] = _derive(fig)
    return result


def township_figures(villages: dict[int, dict], names: dict[int, str]) -> dict:
    fig = _empty()
    for v in villages.values():
        for key in ADDITIVE:
            fig[key] += v[key]
        for b in BREAKDOWNS:
            for k, n in v[b].items():
                fig[b][k] = fig[b].get(k, 0) + n
    fig["resolve_days_sum"] = round(fig["resolve_days_sum"], 4)
    for b in BREAKDOWNS:
        fig[b] = dict(sorted(fig[b].items()))
    fig["needing_attention"] = [
        {**r, "village": names[vid]}
        for vid in sorted(villages)
        for r in villages[vid]["needing_attention"]
    ]
    fig["red_flag"] = sorted(
        ({**r, "village": names[vid]} for vid in villages for r in villages[vid]["red_flag"]),
        key=lambda x: (-x["score"], x["id"]),
    )[:5]
    fig["villages"] = [
        {"id": vid, "name": names[vid], **{k: villages[vid][k] for k in CHANGE_KEYS}}
        for vid in sorted(villages, key=lambda v: names[v])
    ]
    return _derive(fig)


def _with_change(current: dict, previous: dict) -> dict:
    change = {}
    for key in CHANGE_KEYS:
        a, b = current.get(key), previous.get(key)
        change[key] = None if a is None or b is None else round(a - b, 1)
    current["change"] = change
    current["previous"] = {key: previous.get(key) for key in CHANGE_KEYS}
    return current


# --- the job: one village at a time, each in its own transaction --------------------------------


def _typed(fig: dict) -> dict:
    return {
        "households": fig["households"],
        "visits": fig["visits"],
        "visited_households": fig["visited_households"],
        "requests": fig["requests"],
        "overdue": fig["overdue"],
    }


def _stored(month: dt.date, *, village_ids=None, township_ids=None, since: dt.datetime):
    """Snapshots of the month taken at or after ``since``, keyed by village (or township) id."""
    reports = MonthlyReport.objects.filter(month=month, generated_at__gte=since)
    if village_ids is not None:
        rows = reports.filter(village_id__in=village_ids).values_list("village_id", "figures")
    else:
        rows = reports.filter(township_id__in=township_ids, village__isnull=True).values_list(
            "township_id", "figures"
        )
    return dict(rows)


def previous_figures(
    village_ids: list[int], month: dt.date, known: dict[int, dict] | None = None
) -> dict[int, dict]:
    """The villages' figures for the month before ``month``, for the change column.

    Read from last month's snapshots when they were taken after that month had ended (the
    figures as reported then); taken from ``known`` (computed earlier in the same run) or
    computed, for the villages without one.
    """
    before = previous_month(month)
    stored = _stored(before, village_ids=village_ids, since=month_bounds(before)[1])
    for vid in village_ids:
        if vid not in stored and known and vid in known:
            stored[vid] = known[vid]
    missing = [vid for vid in village_ids if vid not in stored]
    if missing:
        stored.update(village_figures(missing, before, for_change=True))
    return stored


def village_figures_with_change(village_ids: list[int], month: dt.date) -> dict[int, dict]:
    """The month's figures of several villages (one set of queries), each with its change."""
    current = village_figures(village_ids, month)
    previous = previous_figures(village_ids, month)
    return {vid: _with_change(current[vid], previous[vid]) for vid in village_ids}


def _store(*, township_id: int, village_id: int | None, month: dt.date, figures: dict):
    report, _created = MonthlyReport.objects.update_or_create(
        township_id=township_id,
        village_id=village_id,
        month=month,
        defaults={"figures": figures, "generated_at": timezone.now(), **_typed(figures)},
    )
    return report


@transaction.atomic
def village_report_store(
    *, village: Village, month: dt.date, figures: dict | None = None
) -> MonthlyReport:
    """Store one village's snapshot; re-running replaces it with identical figures.

    ``figures`` (with their change) come from the run when it has computed a group of villages
    together (:class:`MonthlyRun`); they are computed here otherwise.
    """
    month = month.replace(day=1)
    if figures is None:
        figures = village_figures_with_change([village.pk], month)[village.pk]
    return _store(
        township_id=village.township_id, village_id=village.pk, month=month, figures=figures
    )


def _township_villages(
    township: Township, month: dt.date, names: dict[int, str], fresh_since: dt.datetime | None
) -> dict[int, dict]:
    """All the township's villages' figures for the month: the snapshots taken since the run
    began (``fresh_since``) are summed as stored, the other villages computed."""
    stored = {}
    if fresh_since is not None:
        stored = _stored(month, village_ids=list(names), since=fresh_since)
    missing = [vid for vid in sorted(names) if vid not in stored]
    if missing:
        stored.update(village_figures(missing, month))
    return stored


@transaction.atomic
def township_report_store(
    *,
    township: Township,
    month: dt.date,
    fresh_since: dt.datetime | None = None,
    previous_villages: dict[int, dict] | None = None,
) -> MonthlyReport:
    """镇级汇总: the sum of the villages' figures.

    In a run that has just stored every village (``fresh_since`` = when the run began), the
    village snapshots are summed; the previous month is last month's township snapshot when it
    was taken after that month had ended. Anything missing is computed.
    """
    month = month.replace(day=1)
    names = dict(Village.objects.filter(township=township).values_list("id", "name"))
    current = township_figures(_township_villages(township, month, names, fresh_since), names)
    before = previous_month(month)
    previous = _stored(before, township_ids=[township.pk], since=month_bounds(before)[1]).get(
        township.pk
    )
    if previous is None:
        previous = township_figures(
            previous_figures(sorted(names), month, known=previous_villages), names
        )
    figures = _with_change(current, previous)
    return _store(township_id=township.pk, village_id=None, month=month, figures=figures)


def villages_for_run(*, village_code: str | None = None, township_code: str | None = None):
    villages = Village.objects.select_related("township").order_by("township__code", "code")
    if township_code:
        villages = villages.filter(township__code=township_code)
    if village_code:
        villages = villages.filter(code=village_code)
        if not villages.exists():
            raise ValidationError(_("没有代码为%(code)s的村") % {"code": village_code})
    return list(villages)


def monthly_analysis_units(
    *, month: dt.date, village_code: str | None = None, township_code: str | None = None
) -> list:
    """The work of a run, in order: each village, then each township touched."""
    villages = villages_for_run(village_code=village_code, township_code=township_code)
    townships = {v.township_id: v.township for v in villages}
    return [("village", v) for v in villages] + [("township", t) for t in townships.values()]


class MonthlyRun:
    """One run over its units. Villages are computed in groups (one set of queries for up to
    ``BATCH_VILLAGES`` of them) when the first of a group comes up, then stored one by one, each
    in its own transaction: a worker killed half-way loses at most the village it was storing.
    The townships then sum the village reports the run has stored, and reuse the previous
    month's village figures the run has computed (the first month, when there is no report)."""

    def __init__(self, units: list, month: dt.date):
        self.month = month.replace(day=1)
        self.began = timezone.now()
        self.groups = village_batches([obj.pk for kind, obj in units if kind == "village"])
        self.pending: dict[int, dict] = {}
        self.previous: dict[int, dict] = {}

    def run_unit(self, unit) -> MonthlyReport:
        kind, obj = unit
        if kind == "township":
            with unit_transaction():
                return township_report_store(
                    township=obj,
                    month=self.month,
                    fresh_since=self.began,
                    previous_villages=self.previous,
                )
        if obj.pk not in self.pending:
            group = self.groups[obj.pk]
            current = village_figures(group, self.month)
            previous = previous_figures(group, self.month)
            self.previous.update(previous)
            self.pending = {vid: _with_change(current[vid], previous[vid]) for vid in group}
        with unit_transaction():
            return village_report_store(
                village=obj, month=self.month, figures=self.pending.pop(obj.pk)
            )


def monthly_analysis_run(*, month: dt.date, village_code: str | None = None, progress=None) -> int:
    """Synchronous run (the command and the job call it). Returns the number of snapshots."""
    units = monthly_analysis_units(month=month, village_code=village_code)
    run = MonthlyRun(units, month)
    for done, unit in enumerate(units, start=1):
        run.run_unit(unit)
        if progress:
            progress(done, len(units))
    return len(units)


# --- quarterly review (镇级一季一点评) -----------------------------------------------------------


QUARTER_SUMS = (
    "visits",
    "requests",
    "resolved",
    "resolved_in_grid",
    "overdue",
    "return_visits",
    "satisfied",
    "points_awarded",
    "points_deducted",
    "meetings_held",
    "attendance",
)


def quarter_months(quarter: str) -> list[dt.date]:
    from points.lists import quarter_bounds

    start, _end = quarter_bounds(quarter)
    return [start, next_month(start), next_month(next_month(start))]


def quarter_list_sizes(*, township: Township, quarter: str) -> dict[int, dict]:
    """Red and black list sizes of each village's current overall revision, read live: a
    withdrawal or an upheld objection (a new revision) shows at once on the review page."""
    from points.models import ListEntry, ListPublication

    rows = (
        ListEntry.objects.filter(
            publication__village__township=township,
            publication__quarter=quarter,
            publication__status=ListPublication.Status.PUBLISHED,
            publication__theme=ListPublication.Theme.OVERALL,
            withdrawn=False,
        )
        .values_list("publication__village_id", "colour")
        .annotate(n=Count("id"))
        .order_by()
    )
    sizes: dict[int, dict] = defaultdict(lambda: {"red_list": 0, "black_list": 0})
    for vid, colour, n in rows:
        sizes[vid][f"{colour}_list"] = n
    return sizes


def township_quarter_review(*, township: Township, quarter: str) -> dict:
    """Villages compared for the quarter: stored monthly figures summed, ranks, list sizes."""
    months = quarter_months(quarter)
    villages = dict(Village.objects.filter(township=township).values_list("id", "name"))
    reports = MonthlyReport.objects.filter(
        township=township, village__isnull=False, month__in=months
    ).values_list("village_id", "month", "figures")
    rows = {
        vid: {"id": vid, "name": name, "months": 0, **dict.fromkeys(QUARTER_SUMS, 0)}
        for vid, name in villages.items()
    }
    households: dict[int, tuple[dt.date, int]] = {}
    for vid, month, fig in reports:
        row = rows[vid]
        row["months"] += 1
        for key in QUARTER_SUMS:
            row[key] += fig.get(key) or 0
        if vid not in households or households[vid][0] < month:
            households[vid] = (month, fig.get("households", 0))
    sizes = quarter_list_sizes(township=township, quarter=quarter)
    table = []
    for row in rows.values():
        row.update(sizes[row["id"]])
        row["households"] = households.get(row["id"], (None, 0))[1]
        row["grid_resolution_rate"] = _pct(row["resolved_in_grid"], row["resolved"])
        row["satisfaction_rate"] = _pct(row["satisfied"], row["return_visits"])
        row["visits_per_household"] = (
            round(row["visits"] / row["households"], 2) if row["households"] else None
        )
        table.append(row)

    # Rank: grid resolution rate, then satisfaction, then fewer overdue (RANK semantics: ties share).
    def key(r):
        return (-(r["grid_resolution_rate"] or 0), -(r["satisfaction_rate"] or 0), r["overdue"])

    table.sort(key=lambda r: (key(r), r["name"]))
    previous = None
    for position, row in enumerate(table, start=1):
        row["rank"] = previous["rank"] if previous and key(previous) == key(row) else position
        previous = row
    return {"quarter": quarter, "months": [m.isoformat() for m in months], "villages": table}

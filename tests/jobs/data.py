"""A month of activity in two villages, written straight to the tables the analysis reads.

Times are Asia/Shanghai local; the rows straddle the month's edges on purpose.
"""

from __future__ import annotations

import datetime as dt
from unittest import mock
from zoneinfo import ZoneInfo

from deliberation.models import (
    Attendance,
    Commitment,
    Meeting,
    Motion,
    RuleVersion,
    VillageRule,
)
from governance.models import Request, RequestCategory, ReturnVisit
from grids.models import Visit
from points import services as points_services
from tests.factories import GridFactory, ResidentFactory, representative_user
from tests.jobs.factories import award, base_points
from tests.points.factories import make_shop_with_products

SH = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hh=10, mm=0):
    return dt.datetime(y, m, d, hh, mm, tzinfo=SH)


def make_request(village, rep, household, reported, **fields):
    values = {
        "village": village,
        "grid": household.grid,
        "household": household,
        "representative": rep,
        "reported_by": rep.user,
        "title": "诉求",
        "kind": "request",
        "level": "grid",
        "status": "triaged",
        "reported_at": reported,
    }
    values.update(fields)
    return Request.objects.create(**values)


def redeem_at(clerk, household, shop, quantities, when):
    """A redemption at the counter on a past day (the service dates it today)."""
    with mock.patch("django.utils.timezone.now", return_value=when):
        return points_services.household_redeem(
            actor=clerk,
            household=household,
            shop=shop,
            quantities=quantities,
            request_key=f"redeem-{household.pk}-{when:%Y%m%d%H%M}",
        )


def build_month(village, grid, clerk, *, other_village=None):
    """October 2026 in ``village`` (and a little in ``other_village``); returns handles."""
    rep_a = representative_user(grid, households=4)
    rep_b = representative_user(grid, households=3)
    rep_idle = representative_user(grid, households=2)
    ha = list(rep_a.households.order_by("pk"))
    hb = list(rep_b.households.order_by("pk"))
    for h in ha + hb:
        ResidentFactory(household=h)
    road = RequestCategory.objects.create(township=village.township, name="道路")
    water = RequestCategory.objects.create(township=village.township, name="饮水")

    # visits: the last minute of October counts, the first minute of November does not
    Visit.objects.create(representative=rep_a, household=ha[0], visited_at=at(2026, 10, 31, 23, 59))
    Visit.objects.create(representative=rep_a, household=ha[0], visited_at=at(2026, 10, 5))
    Visit.objects.create(representative=rep_a, household=ha[1], visited_at=at(2026, 10, 1, 0, 0))
    Visit.objects.create(representative=rep_b, household=hb[0], visited_at=at(2026, 10, 12))
    Visit.objects.create(representative=rep_a, household=ha[2], visited_at=at(2026, 11, 1, 0, 0))
    Visit.objects.create(representative=rep_a, household=ha[3], visited_at=at(2026, 9, 30, 23, 59))
    Visit.objects.create(representative=rep_b, household=hb[1], visited_at=at(2026, 9, 10))

    # requests
    r1 = make_request(
        village,
        rep_a,
        ha[0],
        at(2026, 10, 2),
        category=road,
        status="closed",
        resolved_at=at(2026, 10, 4),
        resolved_level="grid",
        closed_at=at(2026, 10, 6),
        satisfaction="satisfied",
        deadline=at(2026, 10, 5),
    )
    make_request(
        village,
        rep_a,
        ha[1],
        at(2026, 10, 3),
        category=road,
        level="village",
        escalated=True,
        status="resolved",
        resolved_at=at(2026, 10, 20),
        resolved_level="village",
        deadline=at(2026, 10, 10),
    )
    make_request(
        village,
        rep_b,
        hb[0],
        at(2026, 10, 8),
        category=water,
        status="in_progress",
        deadline=at(2026, 10, 11),
    )
    make_request(
        village,
        rep_b,
        hb[1],
        at(2026, 10, 31, 23, 59),
        kind="consultation",
        category=water,
        status="closed",
        resolved_at=at(2026, 10, 31, 23, 59),
        resolved_level="grid",
        closed_at=at(2026, 10, 31, 23, 59),
    )
    make_request(
        village, rep_b, hb[2], at(2026, 11, 1, 0, 0), category=road, status="reported", level=""
    )
    original = make_request(
        village, rep_a, ha[2], at(2026, 9, 20), status="in_progress", deadline=at(2026, 10, 1, 0, 0)
    )
    make_request(village, rep_a, ha[3], at(2026, 10, 9), status="duplicate", duplicate_of=original)
    ReturnVisit.objects.create(request=r1, by=clerk, at=at(2026, 10, 7), satisfaction="satisfied")
    ReturnVisit.objects.create(request=r1, by=clerk, at=at(2026, 10, 8), satisfaction="unsatisfied")
    ReturnVisit.objects.create(
        request=r1, by=clerk, at=at(2026, 11, 1, 0, 0), satisfaction="basically"
    )

    # points
    base_points(village, year=2026)
    award(clerk, ha[:2], 20, dt.date(2026, 10, 31))
    award(clerk, hb[:1], 15, dt.date(2026, 11, 1))
    award(clerk, [ha[0]], -5, dt.date(2026, 10, 15))
    # redemptions at the points supermarket: 30 on 20 October, 20 on 1 November (not October)
    shop, (rice, soap) = make_shop_with_products(village, clerk)
    redeem_at(clerk, ha[0], shop, {rice.pk: 1}, at(2026, 10, 20, 9))
    redeem_at(clerk, hb[0], shop, {soap.pk: 1}, at(2026, 11, 1, 0, 5))

    # meetings and attendance
    held = Meeting.objects.create(
        village=village,
        kind="wuchang",
        title="屋场会",
        venue="wuchang",
        scheduled_at=at(2026, 10, 10),
        notice_published_at=at(2026, 10, 1),
        status="held",
        held_at=at(2026, 10, 10),
    )
    for h in ha[:3]:
        Attendance.objects.create(meeting=held, household=h, resident=h.residents.first())
    Meeting.objects.create(
        village=village,
        kind="yehua",
        title="夜话乡村",
        venue="other",
        scheduled_at=at(2026, 10, 20),
        status="draft",
    )

    # village rule in force since September; three households signed in October, one in November
    rule = VillageRule.objects.create(village=village)
    motion = Motion.objects.create(
        village=village,
        title="通过村规民约",
        mode="household_ballot",
        electorate="households",
        status="closed",
    )
    version = RuleVersion.objects.create(
        rule=rule,
        number=1,
        title="村规民约",
        status="in_force",
        in_force_from=dt.date(2026, 9, 1),
        adopted_by=motion,
        adopted_at=at(2026, 8, 20),
        filed_at=at(2026, 8, 25),
    )
    for h, day in ((ha[0], 10), (ha[1], 20), (hb[0], 31)):
        Commitment.objects.create(
            version=version, household=h, signed_on=dt.date(2026, 10, day), recorded_by=clerk
        )
    Commitment.objects.create(
        version=version, household=hb[1], signed_on=dt.date(2026, 11, 1), recorded_by=clerk
    )

    if other_village is not None:
        other_grid = GridFactory(village=other_village, code=other_village.code + "001")
        rep_o = representative_user(other_grid, households=2)
        ho = rep_o.households.first()
        Visit.objects.create(representative=rep_o, household=ho, visited_at=at(2026, 10, 15))
        make_request(
            other_village,
            rep_o,
            ho,
            at(2026, 10, 16),
            category=road,
            status="closed",
            resolved_at=at(2026, 10, 17),
            resolved_level="grid",
            closed_at=at(2026, 10, 17),
        )
    return {"rep_a": rep_a, "rep_b": rep_b, "rep_idle": rep_idle}

"""Deliberation test data, built through the real services where a rule is involved."""

import datetime as dt

from django.utils import timezone

from deliberation import services
from deliberation.models import Body, BodyKind, Meeting
from tests.factories import HouseholdFactory, ResidentFactory


def households_with_adults(grid, count: int, adults_each: int = 1, minors_each: int = 0):
    """``count`` households in ``grid``; each with adults born 1970 and minors born 2015."""
    households = []
    for _ in range(count):
        household = HouseholdFactory(grid=grid)
        for _ in range(adults_each):
            ResidentFactory(household=household, birth_date=dt.date(1970, 1, 1))
        for _ in range(minors_each):
            ResidentFactory(household=household, birth_date=dt.date(2015, 1, 1), id_number="")
        households.append(household)
    return households


def standard_body(village, kind: str) -> Body:
    return Body.objects.get(village=village, grid__isnull=True, kind=kind)


def open_meeting(
    actor,
    village,
    *,
    body=None,
    kind=Meeting.Kind.SESSION,
    grid=None,
    urgent=True,
    title="测试会议",
):
    """A meeting whose notice is out, ready for attendance."""
    meeting = services.meeting_create(
        actor=actor,
        village=village,
        body=body,
        grid=grid,
        kind=kind,
        title=title,
        venue=Meeting.Venue.COURTYARD,
        scheduled_at=timezone.now() + dt.timedelta(days=11),
        urgent=urgent,
        notice_text="请准时参加",
        agenda=["议题一"],
    )
    return services.meeting_announce(actor=actor, meeting=meeting)


def villagers_assembly(actor, village):
    services.village_bodies_ensure(village=village, actor=actor)
    return standard_body(village, BodyKind.VILLAGERS_ASSEMBLY)

"""Helpers for the jobs tests: ledger entries and households built through the real services."""

import datetime as dt

from grids.models import Resident
from points import services as points_services
from tests.factories import HouseholdFactory, ResidentFactory
from tests.points.factories import award as batch_award
from tests.points.factories import make_rule


def households_with_heads(grid, count: int, names=None):
    """``count`` households of ``grid``, each with a head resident (named 户主N unless given)."""
    made = []
    for i in range(count):
        household = HouseholdFactory(grid=grid)
        head = ResidentFactory(household=household, name=(names[i] if names else f"王{i}明"))
        household.head = head
        household.save(update_fields=["head"])
        made.append(household)
    return made


def award(actor, households, points: int, day: dt.date, *, category=None, offence=False, name=None):
    """Record ``points`` (negative = deduction) for each household on ``day``: one batch that
    ``actor`` submits and another cadre of the village approves."""
    village = households[0].village
    extra = {"category": category} if category else {}
    rule = make_rule(
        village,
        actor,
        name=name or ("乱堆乱放" if points < 0 else "志愿服务"),
        points=points,
        allow_same_day_repeat=True,
        black_list_offence=offence,
        **extra,
    )
    return batch_award(households, rule, day, by=actor)


def base_points(village, year: int = 2026, points: int = 100):
    points_services.base_points_grant(year=year, points=points, village_ids=[village.pk])


def move_out(household):
    Resident.objects.filter(household=household).update(status=Resident.Status.MOVED)

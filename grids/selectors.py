"""Reads of the territory and its people, each scoped to the user asking."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from .access import UserScope
from .models import Grid, Household, Representative, Resident, Village


def household_list(
    *, scope: UserScope, village_id: int | None = None, grid_id: int | None = None, search: str = ""
) -> QuerySet[Household]:
    """Households the user may see, for the staff list (one query, paginated by the view)."""
    qs = scope.households().select_related("village", "grid", "head", "representative__resident")
    if village_id:
        qs = qs.filter(village_id=village_id)
    if grid_id:
        qs = qs.filter(grid_id=grid_id)
    search = search.strip()
    if search:
        condition = (
            Q(number=search) | Q(head__name__contains=search) | Q(residents__name__contains=search)
        )
        if len(search) == 4 and search[:3].isdigit() and (search[3].isdigit() or search[3] in "xX"):
            # Search by the last four digits of an ID number, which is all a masked list shows.
            condition |= Q(residents__id_number__endswith=search.upper())
        qs = qs.filter(condition).distinct()
    return qs.order_by("village__code", "number")


def household_detail(*, scope: UserScope, household_id: int) -> Household:
    """One household with its residents; raises Household.DoesNotExist outside the scope (→ 404)."""
    return (
        scope.households()
        .select_related("village", "grid", "head", "representative__resident")
        .prefetch_related("residents")
        .get(pk=household_id)
    )


@dataclass(frozen=True)
class RepresentativeLoad:
    representative: Representative
    households: int
    below: bool
    above: bool


def representative_list(
    *, scope: UserScope, village_id: int | None = None
) -> list[RepresentativeLoad]:
    """Active representatives with their household counts, flagged outside the village's 5–15 range."""
    qs = (
        Representative.objects.filter(scope.grid_q("grid"), ended_on__isnull=True)
        .select_related("resident", "grid", "grid__village")
        .annotate(household_count=Count("households"))
        .order_by("grid__code", "card_number")
    )
    if village_id:
        qs = qs.filter(grid__village_id=village_id)
    return [
        RepresentativeLoad(
            representative=rep,
            households=rep.household_count,
            below=rep.household_count < rep.grid.village.min_households_per_rep,
            above=rep.household_count > rep.grid.village.max_households_per_rep,
        )
        for rep in qs
    ]


def representative_for_card(*, scope: UserScope, representative_id: int) -> Representative:
    return (
        Representative.objects.filter(scope.grid_q("grid"))
        .select_related("resident", "grid", "grid__village", "grid__village__township")
        .get(pk=representative_id)
    )


def representative_public(*, verify_token: str) -> Representative:
    """The card verification page: anyone holding the card's QR code, nothing personal."""
    return (
        Representative.objects.select_related(
            "resident", "grid", "grid__village", "grid__village__township"
        )
        .only(
            "card_number",
            "appointed_on",
            "ended_on",
            "kind",
            "verify_token",
            "resident__name",
            "grid__name",
            "grid__code",
            "grid__village__name",
            "grid__village__code",
            "grid__village__township__name",
        )
        .get(verify_token=verify_token)
    )


def visible_villages(*, scope: UserScope) -> QuerySet[Village]:
    return scope.villages().select_related("township").order_by("code")


def visible_grids(*, scope: UserScope, village_id: int | None = None) -> QuerySet[Grid]:
    qs = scope.grids().select_related("village")
    if village_id:
        qs = qs.filter(village_id=village_id)
    return qs.order_by("code")


def resident_display(*, scope: UserScope, resident: Resident, village_id: int) -> dict[str, str]:
    """Name, ID number and phone as this user may see them (masked unless village staff)."""
    if scope.can_see_pii(village_id):
        return {"id_number": resident.id_number, "phone": resident.phone}
    return {"id_number": resident.masked_id_number, "phone": resident.masked_phone}

"""Reads of the territory and its people, each scoped to the user asking."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet

from .access import UserScope
from .models import ContactAssignment, Grid, Household, Representative, Resident, Role, Village
from .validators import id_number_tail


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
        tail = id_number_tail(search)
        if tail:
            # Search by the last four digits of an ID number, which is all a masked list shows.
            condition |= Q(residents__id_number__endswith=tail)
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


def staff_users(*, scope: UserScope, roles: set[str]) -> QuerySet:
    """Active accounts holding one of ``roles`` inside the user's part of the tree.

    For the admin's 联系干部 / 网格长 / 分片网格长 choices: a village clerk picks among their
    village's accounts, township staff among their township's, nobody outside it.
    """
    users = get_user_model().objects.filter(is_active=True, scope__role__in=roles)
    if scope.is_superuser:
        return users.order_by("username")
    if scope.role == Role.TOWNSHIP_STAFF:
        place = Q(scope__township_id=scope.township_id) | Q(
            scope__village__township_id=scope.township_id
        )
    elif scope.role == Role.VILLAGE_STAFF:
        place = Q(scope__village_id=scope.village_id)
    else:
        return users.none()
    return users.filter(place).order_by("username")


def contact_assignments_of(*, user) -> list[ContactAssignment]:
    """我包联的村/网格: the signed-in cadre's own assignments in force."""
    if user is None or not user.is_authenticated:
        return []
    return list(
        ContactAssignment.objects.filter(cadre_id=user.pk, ended_on__isnull=True)
        .select_related("village", "section", "grid")
        .order_by("village__code", "grid__code", "section__name")
    )


def contact_assignments_in(
    *, scope: UserScope, village_id: int | None = None, grid_id: int | None = None
) -> list[ContactAssignment]:
    """Who answers for a village and its grids (包村 / 包片 / 包网格), within the user's scope.

    ``grid_id`` narrows to that grid: its 包网格 cadre, its section's 包片 cadre and the 包村 one.
    """
    if scope.role in {Role.GRID_LEADER, Role.REPRESENTATIVE}:
        # Their grid's page only: not who answers for the village's other grids.
        grid_id = scope.grid_id
    if village_id is None and grid_id is None:
        return []
    qs = ContactAssignment.objects.filter(scope.village_q("village"), ended_on__isnull=True)
    if grid_id is not None:
        grid = scope.grids().filter(pk=grid_id).values("village_id", "section_id").first()
        if grid is None:
            return []
        qs = qs.filter(village_id=grid["village_id"]).filter(
            Q(kind=ContactAssignment.Kind.VILLAGE)
            | Q(grid_id=grid_id)
            | Q(kind=ContactAssignment.Kind.SECTION, section_id=grid["section_id"])
        )
    else:
        qs = qs.filter(village_id=village_id)
    rows = qs.select_related("cadre", "village", "section", "grid").order_by(
        "grid__code", "section__name", "cadre__username"
    )
    return sorted(rows, key=lambda row: CONTACT_KIND_ORDER.index(row.kind))


CONTACT_KIND_ORDER = [
    ContactAssignment.Kind.VILLAGE,
    ContactAssignment.Kind.SECTION,
    ContactAssignment.Kind.GRID,
]

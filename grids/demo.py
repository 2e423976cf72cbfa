"""Demo township roles that the roster does not carry: 总网格长 and the 包联 cadres.

Called by the demo loader after the villages, grids and staff accounts exist.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from . import services
from .models import Household, Role, Scope, Township, Village

DEMO_CONTACTS_FROM = dt.date(2023, 3, 1)


@transaction.atomic
def demo_roles_ensure(*, actor, township: Township) -> None:
    """Each village gets a Party secretary (the head of its first household), its township cadre
    包村, and its village clerk 包网格 for the first grid (包片 for the first section, if any).
    Idempotent: what is already set is left alone."""
    township_cadre = (
        Scope.objects.filter(role=Role.TOWNSHIP_STAFF, township=township)
        .select_related("user")
        .order_by("user_id")
        .first()
    )
    for village in Village.objects.filter(township=township).order_by("code"):
        if village.party_secretary_id is None:
            first = (
                Household.objects.filter(village=village, head__isnull=False)
                .select_related("head__household")
                .order_by("number")
                .first()
            )
            if first is not None:
                services.village_party_secretary_set(
                    actor=actor, village=village, resident=first.head
                )
        if township_cadre is not None:
            _assign(actor=actor, cadre=township_cadre.user, village=village)
        clerk = (
            Scope.objects.filter(role=Role.VILLAGE_STAFF, village=village)
            .select_related("user")
            .order_by("user_id")
            .first()
        )
        if clerk is None:
            continue
        grid = village.grids.order_by("code").first()
        if grid is not None:
            _assign(actor=actor, cadre=clerk.user, village=village, grid=grid)
        section = village.sections.order_by("name").first()
        if section is not None:
            _assign(actor=actor, cadre=clerk.user, village=village, section=section)


def _assign(*, actor, cadre, village, section=None, grid=None) -> None:
    exists = cadre.contact_assignments.filter(
        village=village, section=section, grid=grid, ended_on__isnull=True
    ).exists()
    if not exists:
        services.contact_assign(
            actor=actor,
            cadre=cadre,
            village=village,
            section=section,
            grid=grid,
            started_on=DEMO_CONTACTS_FROM,
        )

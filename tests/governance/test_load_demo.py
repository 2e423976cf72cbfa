"""The README's first command loads this demo: it must build a working township, once."""

from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import F

from governance.models import CatalogueItem, Request, WorkList, WorkListItem
from grids.models import ContactAssignment, Household, Representative, Village, Visit
from points.models import LedgerEntry, Product
from points.services import ledger_consistency_check

pytestmark = pytest.mark.django_db(transaction=True)


def test_demo_builds_a_township_with_work_in_every_stage_and_is_idempotent(ledger_flush_allowed):
    call_command("load_demo", verbosity=0)
    counts = (
        Village.objects.count(),
        Household.objects.count(),
        Request.objects.count(),
        LedgerEntry.objects.count(),
    )

    call_command("load_demo", verbosity=0)

    assert counts == (
        Village.objects.count(),
        Household.objects.count(),
        Request.objects.count(),
        LedgerEntry.objects.count(),
    )
    assert Village.objects.filter(name__in=["长东湖村", "注湖港村"]).count() == 2
    reps = Representative.objects.filter(ended_on__isnull=True)
    assert all(5 <= rep.households.count() <= 15 for rep in reps)
    assert Visit.objects.exists()
    assert {Request.Status.REPORTED, Request.Status.TRIAGED, Request.Status.CLOSED} <= set(
        Request.objects.values_list("status", flat=True)
    )
    assert Product.objects.filter(stock__gt=0).exists()
    assert ledger_consistency_check() == []
    # The 三个清单 are live: 20/30/8 items, work lists and 村事 cite them, none cites 减负.
    kinds = Counter(CatalogueItem.objects.values_list("list_kind", flat=True))
    assert kinds == {"self_governance": 20, "assist_government": 30, "burden_relief": 8}
    assert WorkList.objects.count() == Village.objects.count()
    items = WorkListItem.objects.all()
    assert items.exists() and not items.filter(catalogue_item__isnull=True).exists()
    assert not items.filter(catalogue_item__list_kind="burden_relief").exists()
    village_level = Request.objects.filter(level=Request.Level.VILLAGE)
    assert village_level.exists()
    assert not village_level.filter(catalogue_item__isnull=True).exists()
    # Awards went through 批量申报: each entry settles a claim and its approver is not its recorder.
    awards = LedgerEntry.objects.filter(kind__in=["award", "deduction"])
    assert awards.exists() and not awards.filter(claim__isnull=True).exists()
    assert not awards.filter(approved_by=F("recorded_by")).exists()
    # Every village has its Party secretary, its township 包村 cadre and a 包网格 clerk.
    for village in Village.objects.all():
        assert village.party_secretary_id is not None
        contacts = ContactAssignment.objects.filter(village=village, ended_on__isnull=True)
        assert contacts.filter(grid__isnull=True, section__isnull=True).exists()
        assert contacts.filter(grid__isnull=False).exists()

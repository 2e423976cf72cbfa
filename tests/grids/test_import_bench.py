"""bench_import on a small roster: the benchmark's import must be correct, whatever its time."""

import io

import pytest
from django.core.management import call_command

from grids.models import AuditEntry, Household, Representative, Resident, Village

pytestmark = pytest.mark.django_db


def test_bench_import_small_roster_is_complete_and_idempotent():
    out = io.StringIO()

    call_command("bench_import", households=200, stdout=out)

    village = Village.objects.get(township__code="430903199")
    households = Household.objects.filter(village=village)
    assert households.count() == 200
    assert households.filter(head__isnull=True).count() == 0
    residents = Resident.objects.filter(household__village=village).count()
    assert 500 <= residents <= 800  # ≈3.25 a household
    assert Representative.objects.filter(grid__village=village).count() == 20
    assert households.filter(representative__isnull=True).count() == 0
    assert AuditEntry.objects.filter(action="import_roster", village=village).count() == 3
    report = out.getvalue()
    assert f"花名册：200户，{residents}名村民，20名联户代表" in report
    assert "| 重复导入（全部未变） | 200 |" in report


def test_bench_import_twice_uses_a_fresh_village_each_time():
    call_command("bench_import", households=20, stdout=io.StringIO())
    call_command("bench_import", households=20, stdout=io.StringIO())

    villages = Village.objects.filter(township__code="430903199")
    assert villages.count() == 2
    for village in villages:
        assert Household.objects.filter(village=village).count() == 20

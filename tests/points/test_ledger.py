"""The ledger: append-only in the database, running balances, reversals, the yearly base grant."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from points import services
from points.models import Account, LedgerEntry, PointsRule
from tests.factories import HouseholdFactory
from tests.points.factories import award, fund, make_rule


def _entry_for(household, clerk):
    fund(household, clerk, 30)
    return LedgerEntry.objects.get(account__household=household)


@pytest.mark.django_db
def test_raw_sql_update_on_ledger_is_rejected_by_the_database(household, village_clerk):
    entry = _entry_for(household, village_clerk)
    with (
        pytest.raises(DatabaseError, match="只能追加"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE points_ledgerentry SET points = 9999 WHERE id = %s", [entry.pk])
    entry.refresh_from_db()
    assert entry.points == 30


@pytest.mark.django_db
def test_raw_sql_delete_on_ledger_is_rejected_by_the_database(household, village_clerk):
    entry = _entry_for(household, village_clerk)
    with (
        pytest.raises(DatabaseError, match="只能追加"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM points_ledgerentry WHERE id = %s", [entry.pk])
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_orm_save_and_delete_of_an_entry_are_rejected(household, village_clerk):
    entry = _entry_for(household, village_clerk)
    entry.note = "改一下"
    with pytest.raises(DatabaseError), transaction.atomic():
        entry.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    assert LedgerEntry.objects.get(pk=entry.pk).note == ""


@pytest.mark.django_db
def test_entries_carry_running_balance_and_cache_equals_sum(household, village_clerk):
    fund(household, village_clerk, 30)
    fund(household, village_clerk, 15)
    deduction = make_rule(household.village, village_clerk, name="乱堆乱放", points=-10)
    award([household], deduction, dt.date.today(), by=village_clerk)
    entries = list(LedgerEntry.objects.filter(account__household=household).order_by("id"))
    assert [e.balance_after for e in entries] == [30, 45, 35]
    assert [e.kind for e in entries] == ["award", "award", "deduction"]
    assert Account.objects.get(household=household).balance == 35
    assert services.ledger_consistency_check() == []


@pytest.mark.django_db
def test_deduction_below_zero_is_refused_and_nothing_written(household, village_clerk):
    fund(household, village_clerk, 5)
    deduction = make_rule(household.village, village_clerk, name="违规操办红白喜事", points=-20)
    with pytest.raises(ValidationError, match="积分余额不足"):
        award([household], deduction, dt.date.today(), by=village_clerk)
    assert LedgerEntry.objects.filter(account__household=household).count() == 1
    assert Account.objects.get(household=household).balance == 5


@pytest.mark.django_db
def test_database_refuses_a_negative_balance_even_without_the_service(household, village_clerk):
    fund(household, village_clerk, 5)
    with pytest.raises(DatabaseError), transaction.atomic():
        Account.objects.filter(household=household).update(balance=-1)


@pytest.mark.django_db
def test_reversal_points_at_original_and_a_second_reversal_is_refused(household, village_clerk):
    entry = _entry_for(household, village_clerk)
    reversal = services.entry_reverse(actor=village_clerk, entry=entry, reason="记错户了")
    assert reversal.reverses_id == entry.pk
    assert reversal.points == -30
    assert reversal.balance_after == 0
    with pytest.raises(ValidationError, match="已经冲正过"):
        services.entry_reverse(actor=village_clerk, entry=entry, reason="再冲一次")
    assert LedgerEntry.objects.filter(reverses=entry).count() == 1
    assert Account.objects.get(household=household).balance == 0


@pytest.mark.django_db
def test_database_allows_at_most_one_reversal_per_entry(household, village_clerk):
    entry = _entry_for(household, village_clerk)
    services.entry_reverse(actor=village_clerk, entry=entry, reason="记错")
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.create(
            account=entry.account,
            kind="reversal",
            points=-30,
            balance_after=0,
            occurred_on=dt.date.today(),
            recorded_at=entry.recorded_at,
            reverses=entry,
        )


@pytest.mark.django_db
def test_rule_change_does_not_change_past_entries(household, village_clerk, login):
    """The passbook shows each entry with the name and points its rule had when it was made."""
    rule = fund(household, village_clerk, 10)
    services.rule_update(
        actor=village_clerk, rule=rule, changes={"name": "志愿服务（新）", "points": 50}
    )
    award([household], PointsRule.objects.get(pk=rule.pk), dt.date.today(), by=village_clerk)

    rows = list(
        LedgerEntry.objects.filter(account__household=household)
        .order_by("pk")
        .values_list("rule_id", "rule_name", "points", "balance_after")
    )
    assert rows == [(rule.pk, "志愿服务", 10, 10), (rule.pk, "志愿服务（新）", 50, 60)]
    body = login(village_clerk).get(reverse("points:passbook", args=[household.pk]))
    cells = [
        row.split("</td>")[1:3]
        for row in body.content.decode().split("<tbody>", 1)[1].split("</tr>")[:2]
    ]
    assert ["志愿服务" in cells[0][0], "+10" in cells[0][1]] == [True, True]
    assert "（新）" not in cells[0][0] and "志愿服务（新）" in cells[1][0] and "+50" in cells[1][1]


@pytest.mark.django_db
def test_base_grant_is_idempotent(grid, village_clerk):
    households = [HouseholdFactory(grid=grid) for _ in range(3)]
    assert services.base_points_grant(year=2026, points=100) == 3
    assert services.base_points_grant(year=2026, points=100) == 0
    for household in households:
        account = Account.objects.get(household=household)
        assert account.balance == 100
        entry = account.entries.get()
        assert (entry.kind, entry.occurred_on) == ("base", dt.date(2026, 1, 1))
    assert services.base_points_grant(year=2027, points=100) == 3


@pytest.mark.django_db
def test_consistency_check_reports_an_account_whose_cache_drifted(household, village_clerk):
    fund(household, village_clerk, 30)
    # Simulate a bug elsewhere that touched the cache without an entry.
    Account.objects.filter(household=household).update(balance=31)
    mismatches = services.ledger_consistency_check()
    assert [(m.household_number, m.cached, m.actual) for m in mismatches] == [
        (household.number, 31, 30)
    ]

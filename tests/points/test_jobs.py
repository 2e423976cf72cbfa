"""The yearly base grant and the ledger check, as tasks and as management commands."""

import io

import pytest
from django.core.management import CommandError, call_command

from points import tasks
from points.models import Account, LedgerEntry
from tests.factories import HouseholdFactory
from tests.points.factories import fund


@pytest.mark.django_db
def test_grant_base_points_command_twice_grants_once(grid):
    HouseholdFactory.create_batch(4, grid=grid)
    out = io.StringIO()
    call_command("grant_base_points", "--year", "2026", "--points", "80", stdout=out)
    call_command("grant_base_points", "--year", "2026", "--points", "80", stdout=out)
    assert "新发放4户" in out.getvalue() and "新发放0户" in out.getvalue()
    assert LedgerEntry.objects.filter(kind="base").count() == 4
    assert set(Account.objects.values_list("balance", flat=True)) == {80}


@pytest.mark.django_db
def test_grant_base_points_task_runs_the_service(grid):
    HouseholdFactory.create_batch(2, grid=grid)
    assert tasks.grant_base_points.delay(year=2025, points=50).get() == 2
    assert tasks.grant_base_points.delay(year=2025, points=50).get() == 0


@pytest.mark.django_db
def test_check_ledger_command_and_task_report_drifted_account(household, village_clerk):
    fund(household, village_clerk, 10)
    out = io.StringIO()
    call_command("check_ledger", stdout=out)
    assert "全部账户余额与流水一致" in out.getvalue()
    assert tasks.check_ledger.delay().get() == []
    Account.objects.filter(household=household).update(balance=99)
    with pytest.raises(CommandError, match="1个账户余额与流水不一致"):
        call_command("check_ledger", stdout=out)
    assert tasks.check_ledger.delay().get() == [household.points_account.pk]


@pytest.mark.django_db
def test_admin_stock_in_goes_through_the_service(client, village, admin_user):
    from points import services

    shop = services.shop_create(actor=admin_user, village=village)
    product = services.product_create(actor=admin_user, shop=shop, name="香皂", points_price=5)
    client.force_login(admin_user)
    response = client.post(
        "/admin/points/stockmovement/add/",
        {
            "product": product.pk,
            "kind": "donation",
            "quantity": 6,
            "donor": "乡贤赵先生",
            "note": "",
        },
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.stock == 6
    from grids.models import AuditEntry

    assert AuditEntry.objects.filter(action="stock_donation").exists()


@pytest.mark.django_db
def test_admin_cannot_change_or_delete_ledger_entries(client, household, admin_user):
    fund(household, admin_user, 10)
    entry = LedgerEntry.objects.get()
    client.force_login(admin_user)
    assert client.get(f"/admin/points/ledgerentry/{entry.pk}/delete/").status_code == 403
    response = client.post(f"/admin/points/ledgerentry/{entry.pk}/change/", {"points": 999})
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.points == 10


@pytest.mark.django_db
def test_admin_rule_add_goes_through_rule_create(client, village, admin_user):
    from grids.models import AuditEntry
    from points.models import PointsRule
    from tests.points.factories import category_for

    category = category_for(village.township, admin_user)
    client.force_login(admin_user)
    response = client.post(
        "/admin/points/pointsrule/add/",
        {
            "township": village.township_id,
            "village": village.pk,
            "code": "HJ02",
            "name": "门前三包",
            "category": category.pk,
            "points": 5,
            "subject": "household",
            "active_from": "2026-01-01",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = PointsRule.objects.get(code="HJ02")
    assert rule.village == village
    assert AuditEntry.objects.filter(
        object_type="points.pointsrule", object_id=str(rule.pk)
    ).exists()

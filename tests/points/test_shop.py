"""The points supermarket: stock in/out, redemption at the counter, cancellation."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from points import services
from points.models import Account, LedgerEntry, Product, Redemption, StockMovement
from tests.points.factories import fund, held_meeting, make_shop_with_products, new_key


@pytest.fixture
def shop_setup(village, village_clerk):
    return make_shop_with_products(village, village_clerk)


@pytest.mark.django_db
def test_redeem_two_products_debits_points_and_stock_together(household, village_clerk, shop_setup):
    shop, (rice, soap) = shop_setup
    fund(household, village_clerk, 100)
    redemption = services.household_redeem(
        actor=village_clerk,
        household=household,
        shop=shop,
        quantities={rice.pk: 1, soap.pk: 2},
        request_key=new_key(),
    )
    assert redemption.total_points == 70
    assert Account.objects.get(household=household).balance == 30
    rice.refresh_from_db()
    soap.refresh_from_db()
    assert (rice.stock, soap.stock) == (9, 8)
    entry = LedgerEntry.objects.get(redemption=redemption)
    assert (entry.kind, entry.points, entry.balance_after) == ("redemption", -70, 30)
    assert StockMovement.objects.filter(redemption=redemption, kind="redemption").count() == 2


@pytest.mark.django_db
def test_redeeming_more_than_the_balance_is_refused_and_nothing_written(
    household, village_clerk, shop_setup
):
    shop, (rice, _soap) = shop_setup
    fund(household, village_clerk, 50)
    with pytest.raises(ValidationError, match="积分余额不足：现有50分，本次兑换需要60分"):
        services.household_redeem(
            actor=village_clerk,
            household=household,
            shop=shop,
            quantities={rice.pk: 2},
            request_key=new_key(),
        )
    rice.refresh_from_db()
    assert rice.stock == 10
    assert not Redemption.objects.exists()
    assert Account.objects.get(household=household).balance == 50


@pytest.mark.django_db
def test_redeeming_more_than_the_stock_is_refused(household, village_clerk, shop_setup):
    shop, (rice, _soap) = shop_setup
    fund(household, village_clerk, 1000)
    with pytest.raises(ValidationError, match="库存不足：现有10件，需要11件"):
        services.household_redeem(
            actor=village_clerk,
            household=household,
            shop=shop,
            quantities={rice.pk: 11},
            request_key=new_key(),
        )
    assert Account.objects.get(household=household).balance == 1000


@pytest.mark.django_db
def test_inactive_product_cannot_be_redeemed(household, village_clerk, shop_setup):
    shop, (rice, _soap) = shop_setup
    fund(household, village_clerk, 100)
    services.product_update(actor=village_clerk, product=rice, active=False)
    with pytest.raises(ValidationError, match="已下架"):
        services.household_redeem(
            actor=village_clerk,
            household=household,
            shop=shop,
            quantities={rice.pk: 1},
            request_key=new_key(),
        )


@pytest.mark.django_db
def test_resubmitted_counter_form_does_not_spend_twice(household, village_clerk, shop_setup):
    shop, (rice, _soap) = shop_setup
    fund(household, village_clerk, 100)
    key = new_key()
    first = services.household_redeem(
        actor=village_clerk,
        household=household,
        shop=shop,
        quantities={rice.pk: 1},
        request_key=key,
    )
    again = services.household_redeem(
        actor=village_clerk,
        household=household,
        shop=shop,
        quantities={rice.pk: 1},
        request_key=key,
    )
    assert first.pk == again.pk
    assert Account.objects.get(household=household).balance == 70


@pytest.mark.django_db
def test_database_refuses_negative_stock(village, village_clerk, shop_setup):
    _shop, (rice, _soap) = shop_setup
    with pytest.raises(DatabaseError), transaction.atomic():
        Product.objects.filter(pk=rice.pk).update(stock=-1)


@pytest.mark.django_db
def test_cancel_returns_points_and_stock_once(household, village_clerk, shop_setup):
    shop, (rice, soap) = shop_setup
    fund(household, village_clerk, 100)
    redemption = services.household_redeem(
        actor=village_clerk,
        household=household,
        shop=shop,
        quantities={rice.pk: 1, soap.pk: 1},
        request_key=new_key(),
    )
    services.redemption_cancel(actor=village_clerk, redemption=redemption, reason="拿错了")
    assert Account.objects.get(household=household).balance == 100
    rice.refresh_from_db()
    soap.refresh_from_db()
    assert (rice.stock, soap.stock) == (10, 10)
    original = LedgerEntry.objects.get(redemption=redemption, kind="redemption")
    reversal = LedgerEntry.objects.get(reverses=original)
    assert (reversal.points, reversal.balance_after) == (50, 100)
    with pytest.raises(ValidationError, match="已经撤销过"):
        services.redemption_cancel(actor=village_clerk, redemption=redemption, reason="再撤")
    assert services.ledger_consistency_check() == []


@pytest.mark.django_db
def test_stock_in_purchase_donation_and_correction(village, village_clerk, shop_setup):
    _shop, (rice, _soap) = shop_setup
    services.stock_donation(actor=village_clerk, product=rice, quantity=5, donor="乡贤李先生")
    services.stock_correct(actor=village_clerk, product=rice, quantity=-2, note="受潮")
    rice.refresh_from_db()
    assert rice.stock == 13
    with pytest.raises(ValidationError, match="库存不足"):
        services.stock_correct(actor=village_clerk, product=rice, quantity=-14, note="盘亏")
    with pytest.raises(ValidationError, match="请填写捐赠人"):
        services.stock_donation(actor=village_clerk, product=rice, quantity=1, donor=" ")
    with pytest.raises(ValidationError, match="采购金额"):
        services.stock_purchase(actor=village_clerk, product=rice, quantity=1, cost_yuan=None)
    rice.refresh_from_db()
    assert rice.stock == 13
    assert StockMovement.objects.filter(product=rice, kind="purchase").get().cost_yuan == Decimal(
        "100.00"
    )


@pytest.mark.django_db
def test_shop_of_another_village_cannot_be_used(household, other_village, township_staff):
    shop, (rice,) = make_shop_with_products(other_village, township_staff, (("米", 10, 5),))
    fund(household, township_staff, 100)
    with pytest.raises(ValidationError, match="不属于农户所在的村"):
        services.household_redeem(
            actor=township_staff,
            household=household,
            shop=shop,
            quantities={rice.pk: 1},
            request_key=new_key(),
        )


@pytest.mark.django_db
def test_honour_once_per_household_title_and_year(household, village_clerk):
    meeting = held_meeting(household.village, village_clerk)

    def award(year):
        return services.honour_award(
            actor=village_clerk, household=household, title="文明家庭", year=year, meeting=meeting
        )

    award(2026)
    with pytest.raises(ValidationError, match="已获得2026年度“文明家庭”称号"):
        award(2026)
    award(2025)


@pytest.mark.django_db
def test_categories_seeded_once_and_template_copied_to_villages(
    township, village, other_village, township_staff
):
    from points.models import Category, PointsRule

    first = services.township_categories_ensure(actor=township_staff, township=township)
    again = services.township_categories_ensure(actor=township_staff, township=township)
    assert [c.pk for c in first] == [c.pk for c in again]
    assert {c.name for c in first if c.kind == "moral"} == {
        "社会公德",
        "职业道德",
        "家庭美德",
        "个人品德",
    }
    assert {"安全生产", "环境整治", "信访维稳", "产业发展"} <= {c.name for c in first}
    template = services.rule_create(
        actor=township_staff,
        township=township,
        category=Category.objects.get(township=township, name="环境整治"),
        code="HJ01",
        name="垃圾分类",
        points=20,
        subject="resident",
        needs_review=True,
        max_per_month=4,
        max_per_quarter=10,
        max_per_year=30,
        allow_same_day_repeat=True,
        black_list_offence=True,
        active_from=dt.date(2025, 1, 1),
        active_to=dt.date(2027, 6, 30),
    )
    copies = services.rule_copy_to_villages(actor=township_staff, template=template)
    assert {c.village_id for c in copies} == {village.pk, other_village.pk}
    for copy in PointsRule.objects.filter(pk__in=[c.pk for c in copies]):
        assert (copy.township_id, copy.template_id) == (township.pk, template.pk)
        for field in services.RULE_COPY_FIELDS:
            assert getattr(copy, field) == getattr(template, field), field
    assert services.rule_copy_to_villages(actor=township_staff, template=template) == []
    assert PointsRule.objects.filter(code="HJ01", village__isnull=False).count() == 2

"""Points admin for village and township staff (not superusers): scoped, through the services.

Village staff: their village's rules, shop, products, stock-in, prize tiers, honours.
Township staff: categories, township templates and copying them; read their villages.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from grids.models import AuditEntry, Role
from points import services
from points.models import (
    Category,
    Honour,
    LedgerEntry,
    PointsRule,
    PrizeTier,
    Product,
    Shop,
    StockMovement,
)
from tests.factories import GridFactory, HouseholdFactory, TownshipFactory, user_with_scope
from tests.points.factories import (
    award,
    category_for,
    fund,
    held_meeting,
    make_rule,
    make_shop_with_products,
)

pytestmark = pytest.mark.django_db


def _rule_form(category, **overrides):
    data = {
        "code": "HJ02",
        "name": "门前三包",
        "category": category.pk,
        "points": 5,
        "subject": "household",
        "max_per_month": "",
        "max_per_quarter": "",
        "max_per_year": "",
        "active_from": "2026-01-01",
        "active_to": "",
        "legal_basis": "",
    }
    data.update(overrides)
    return data


def _audited(actor, action, instance) -> bool:
    return AuditEntry.objects.filter(
        actor=actor,
        action=action,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
    ).exists()


@pytest.fixture
def other_clerk(other_village):
    return user_with_scope(Role.VILLAGE_STAFF, village=other_village, is_staff=True)


# --- village staff --------------------------------------------------------------------------------


def test_village_clerk_opens_every_points_admin_page(login, village_clerk):
    client = login(village_clerk)
    for model in [
        "category",
        "pointsrule",
        "shop",
        "product",
        "stockmovement",
        "prizetier",
        "honour",
        "listpolicy",
        "account",
        "ledgerentry",
        "claim",
        "claimbatch",
        "redemption",
        "listpublication",
    ]:
        assert client.get(reverse(f"admin:points_{model}_changelist")).status_code == 200, model
    for model in ["pointsrule", "shop", "product", "stockmovement", "prizetier", "honour"]:
        assert client.get(reverse(f"admin:points_{model}_add")).status_code == 200, model


def test_village_clerk_adds_a_rule_for_own_village_through_rule_create(
    login, village, village_clerk
):
    category = category_for(village.township, village_clerk)
    response = login(village_clerk).post(
        reverse("admin:points_pointsrule_add"), _rule_form(category, village=village.pk)
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    rule = PointsRule.objects.get(code="HJ02")
    assert (rule.village, rule.township, rule.points) == (village, village.township, 5)
    assert _audited(village_clerk, "create", rule)


def test_village_clerk_cannot_add_a_rule_for_another_village(
    login, village, other_village, village_clerk
):
    category = category_for(village.township, village_clerk)
    response = login(village_clerk).post(
        reverse("admin:points_pointsrule_add"), _rule_form(category, village=other_village.pk)
    )
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()
    assert not PointsRule.objects.exists()


def test_village_clerk_cannot_see_or_change_another_villages_rule(
    login, village, other_village, village_clerk, other_clerk
):
    theirs = make_rule(other_village, other_clerk, name="外村规则")
    mine = make_rule(village, village_clerk, name="本村规则")
    client = login(village_clerk)

    listed = client.get(reverse("admin:points_pointsrule_changelist")).context["cl"].result_list
    change = reverse("admin:points_pointsrule_change", args=[theirs.pk])
    response = client.post(change, _rule_form(theirs.category, name="改掉", points=99))

    assert [r.pk for r in listed] == [mine.pk]
    assert client.get(change).status_code == 302  # "does not exist" → back to the admin index
    assert response.status_code == 302
    theirs.refresh_from_db()
    assert (theirs.name, theirs.points) == ("外村规则", 20)


def test_rule_changed_in_admin_changes_future_entries_only(
    login, household, village_clerk, second_clerk
):
    rule = make_rule(household.village, village_clerk, name="志愿服务", points=10)
    award([household], rule, dt.date(2026, 1, 5), by=village_clerk)
    client = login(village_clerk)
    response = client.post(
        reverse("admin:points_pointsrule_change", args=[rule.pk]),
        _rule_form(rule.category, code=rule.code, name="志愿服务（新）", points=50),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    rule.refresh_from_db()
    assert (rule.name, rule.points) == ("志愿服务（新）", 50)
    assert _audited(village_clerk, "update", rule)
    claim = services.claim_submit(
        actor=village_clerk, household=household, rule=rule, occurred_on=dt.date(2026, 1, 6)
    )
    services.claim_approve(actor=second_clerk, claim=claim)

    rows = list(
        LedgerEntry.objects.filter(account__household=household)
        .order_by("pk")
        .values_list("rule_name", "points", "balance_after")
    )
    assert rows == [("志愿服务", 10, 10), ("志愿服务（新）", 50, 60)]
    passbook = client.get(reverse("points:passbook", args=[household.pk])).content.decode()
    first_row = passbook.split("2026-01-05", 1)[1].split("</tr>", 1)[0]
    assert "志愿服务<" in first_row and "+10" in first_row and "（新）" not in first_row


def test_village_clerk_reads_township_templates_but_cannot_change_them(
    login, township, township_staff, village_clerk
):
    template = services.rule_create(
        actor=township_staff,
        township=township,
        category=category_for(township, township_staff),
        code="T01",
        name="垃圾分类",
        points=20,
        active_from=dt.date(2026, 1, 1),
    )
    client = login(village_clerk)
    change = reverse("admin:points_pointsrule_change", args=[template.pk])
    page = client.get(change)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(change, _rule_form(template.category, points=99)).status_code == 403
    template.refresh_from_db()
    assert template.points == 20


def test_village_clerk_sets_up_shop_product_and_stock_in_by_purchase_and_donation(
    login, village, village_clerk
):
    client = login(village_clerk)
    assert (
        client.post(
            reverse("admin:points_shop_add"), {"village": village.pk, "name": "积分超市"}
        ).status_code
        == 302
    )
    shop = Shop.objects.get(village=village)
    assert (
        client.post(
            reverse("admin:points_product_add"),
            {"shop": shop.pk, "name": "大米5斤", "points_price": 30, "active": "on"},
        ).status_code
        == 302
    )
    rice = Product.objects.get(shop=shop)
    add_stock = reverse("admin:points_stockmovement_add")
    purchase = {"product": rice.pk, "kind": "purchase", "quantity": 10, "cost_yuan": "250.00"}
    donation = {"product": rice.pk, "kind": "donation", "quantity": 3, "donor": "乡贤王先生"}
    assert client.post(add_stock, purchase).status_code == 302
    assert client.post(add_stock, donation).status_code == 302
    refused = client.post(add_stock, {**purchase, "cost_yuan": ""})

    assert "请填写采购金额" in refused.content.decode()
    rice.refresh_from_db()
    assert rice.stock == 13
    movements = StockMovement.objects.filter(product=rice).order_by("pk")
    assert [(m.kind, m.quantity, m.cost_yuan, m.donor) for m in movements] == [
        ("purchase", 10, Decimal("250.00"), ""),
        ("donation", 3, None, "乡贤王先生"),
    ]
    assert all(_audited(village_clerk, f"stock_{m.kind}", m) for m in movements)
    assert _audited(village_clerk, "create", shop) and _audited(village_clerk, "create", rice)


def test_village_clerk_cannot_stock_or_price_another_villages_product(
    login, other_village, village_clerk, other_clerk
):
    _shop, (rice, _soap) = make_shop_with_products(other_village, other_clerk)
    client = login(village_clerk)
    response = client.post(
        reverse("admin:points_stockmovement_add"),
        {"product": rice.pk, "kind": "donation", "quantity": 5, "donor": "冒充"},
    )
    assert response.status_code == 200 and "选择一个有效的选项" in response.content.decode()
    change = reverse("admin:points_product_change", args=[rice.pk])
    client.post(change, {"name": rice.name, "points_price": 1, "active": "on"})
    rice.refresh_from_db()
    assert (rice.stock, rice.points_price) == (10, 30)
    assert not StockMovement.objects.filter(product=rice, donor="冒充").exists()


def test_stock_in_form_offers_no_counter_kinds(login, village, village_clerk):
    page = login(village_clerk).get(reverse("admin:points_stockmovement_add")).content.decode()
    assert 'value="purchase"' in page and 'value="donation"' in page
    assert 'value="redemption"' not in page and 'value="return"' not in page


def test_village_clerk_adds_prize_tier_with_own_product_only(
    login, village, other_village, village_clerk, other_clerk
):
    _shop, (mattress, _soap) = make_shop_with_products(village, village_clerk)
    _other, (foreign, _x) = make_shop_with_products(other_village, other_clerk)
    client = login(village_clerk)
    url = reverse("admin:points_prizetier_add")
    form = {"village": village.pk, "rank_from": 1, "rank_to": 4}
    assert client.post(url, {**form, "product": foreign.pk}).status_code == 200
    assert client.post(url, {**form, "product": mattress.pk}).status_code == 302
    tier = PrizeTier.objects.get()
    assert tier.product == mattress and _audited(village_clerk, "create", tier)


def test_honour_added_in_admin_needs_the_deciding_meeting(login, household, village_clerk):
    client = login(village_clerk)
    url = reverse("admin:points_honour_add")
    form = {"household": household.pk, "title": "文明家庭", "year": 2026, "note": ""}
    assert client.post(url, form).status_code == 200
    meeting = held_meeting(household.village, village_clerk)
    assert client.post(url, {**form, "meeting": meeting.pk}).status_code == 302
    honour = Honour.objects.get()
    assert honour.meeting == meeting and _audited(village_clerk, "create", honour)


def test_village_clerk_sees_only_own_villages_ledger(
    login, household, other_village, village_clerk, other_clerk
):
    fund(household, village_clerk, 10)
    fund(HouseholdFactory(grid=GridFactory(village=other_village)), other_clerk, 20)
    response = login(village_clerk).get(reverse("admin:points_ledgerentry_changelist"))
    assert [e.points for e in response.context["cl"].result_list] == [10]
    entry = LedgerEntry.objects.get(points=10)
    change = reverse("admin:points_ledgerentry_change", args=[entry.pk])
    assert login(village_clerk).post(change, {"points": 999}).status_code == 403


def test_village_clerk_cannot_add_categories(login, village_clerk):
    client = login(village_clerk)
    assert client.get(reverse("admin:points_category_add")).status_code == 403


# --- township staff -------------------------------------------------------------------------------


def test_township_staff_add_category_and_template_and_copy_it_to_villages(
    login, township, village, other_village, township_staff
):
    client = login(township_staff)
    assert (
        client.post(
            reverse("admin:points_category_add"),
            {"township": township.pk, "name": "移风易俗", "kind": "moral"},
        ).status_code
        == 302
    )
    category = Category.objects.get(name="移风易俗")
    assert _audited(township_staff, "create", category)
    response = client.post(
        reverse("admin:points_pointsrule_add"),
        _rule_form(
            category,
            township=township.pk,
            code="YF01",
            name="婚事新办",
            points=30,
            max_per_year=1,
            needs_review="on",
            black_list_offence="",
            active_to="2027-12-31",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    template = PointsRule.objects.get(code="YF01")
    assert template.village is None and template.township == township

    response = client.post(
        reverse("admin:points_pointsrule_changelist"),
        {"action": "copy_to_villages", "_selected_action": [template.pk]},
    )
    assert response.status_code == 302
    copies = PointsRule.objects.filter(template=template).order_by("village__code")
    assert [c.village for c in copies] == [village, other_village]
    for copy in copies:
        assert (
            copy.code,
            copy.name,
            copy.category,
            copy.points,
            copy.needs_review,
            copy.max_per_year,
            copy.active_from,
            copy.active_to,
        ) == ("YF01", "婚事新办", category, 30, True, 1, dt.date(2026, 1, 1), dt.date(2027, 12, 31))
        assert _audited(township_staff, "create", copy)


def test_township_staff_read_village_rules_but_do_not_change_them(
    login, village, village_clerk, township_staff
):
    rule = make_rule(village, village_clerk)
    client = login(township_staff)
    listed = client.get(reverse("admin:points_pointsrule_changelist")).context["cl"].result_list
    assert rule in list(listed)
    change = reverse("admin:points_pointsrule_change", args=[rule.pk])
    assert client.post(change, _rule_form(rule.category, points=99)).status_code == 403
    rule.refresh_from_db()
    assert rule.points == 20
    assert client.get(reverse("admin:points_shop_add")).status_code == 403


def test_another_townships_staff_see_none_of_our_templates_or_categories(
    login, township, township_staff
):
    template = services.rule_create(
        actor=township_staff,
        township=township,
        category=category_for(township, township_staff),
        code="T01",
        name="垃圾分类",
        points=20,
        active_from=dt.date(2026, 1, 1),
    )
    outsider = user_with_scope(Role.TOWNSHIP_STAFF, township=TownshipFactory(), is_staff=True)
    client = login(outsider)
    assert not client.get(reverse("admin:points_pointsrule_changelist")).context["cl"].result_list
    assert not client.get(reverse("admin:points_category_changelist")).context["cl"].result_list
    client.post(
        reverse("admin:points_pointsrule_changelist"),
        {"action": "copy_to_villages", "_selected_action": [template.pk]},
    )
    assert not PointsRule.objects.filter(template=template).exists()

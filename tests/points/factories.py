"""Points fixtures built through the real services, so tests see what production writes."""

import datetime as dt
import uuid
from decimal import Decimal

from grids.models import Role, Scope
from points import services
from points.models import Category, LedgerEntry, PointsRule
from tests.factories import user_with_scope


def category_for(township, actor, name: str = "环境整治") -> Category:
    services.township_categories_ensure(actor=actor, township=township)
    return Category.objects.get(township=township, name=name)


def make_rule(village, actor, **overrides) -> PointsRule:
    """A village rule; defaults: 垃圾分类 +20, household, no caps, active since 2024."""
    values = {
        "code": f"R{uuid.uuid4().hex[:6]}",
        "name": "垃圾分类",
        "points": 20,
        "active_from": dt.date(2024, 1, 1),
    }
    values.update(overrides)
    category = values.pop("category", None) or category_for(village.township, actor)
    return services.rule_create(actor=actor, village=village, category=category, **values)


def make_shop_with_products(village, actor, products=(("大米5斤", 30, 10), ("洗衣液", 20, 10))):
    """A shop with products (name, points price, stock bought at 10 元 each)."""
    shop = services.shop_create(actor=actor, village=village)
    made = []
    for name, price, stock in products:
        product = services.product_create(actor=actor, shop=shop, name=name, points_price=price)
        if stock:
            services.stock_purchase(
                actor=actor, product=product, quantity=stock, cost_yuan=Decimal("10.00") * stock
            )
            product.refresh_from_db()
        made.append(product)
    return shop, made


def second_cadre(village, not_user):
    """A village cadre of ``village`` other than ``not_user`` (made if there is none yet): the
    approver of a batch must not be its submitter."""
    scope = (
        Scope.objects.filter(role=Role.VILLAGE_STAFF, village=village)
        .exclude(user=not_user)
        .select_related("user")
        .order_by("user_id")
        .first()
    )
    if scope is not None:
        return scope.user
    return user_with_scope(Role.VILLAGE_STAFF, village=village, is_staff=True)


def award(households, rule, on: dt.date, *, by, approver=None, note="") -> list[LedgerEntry]:
    """批量记分 as staff do it: ``by`` submits one batch of ``rule`` for ``households`` on ``on``
    and ``approver`` (another cadre of the village unless given) approves it; returns the entries."""
    batch = services.claim_batch_submit(
        actor=by, rule=rule, households=list(households), occurred_on=on, note=note
    )
    return services.claim_batch_approve(
        actor=approver or second_cadre(rule.village, by), batch=batch
    )


def fund(household, actor, points: int, village=None):
    """Give a household ``points`` through a batch of a repeatable rule (``actor`` submits)."""
    rule = make_rule(
        village or household.village,
        actor,
        name="志愿服务",
        points=points,
        allow_same_day_repeat=True,
    )
    award([household], rule, dt.date.today(), by=actor)
    return rule


def new_key() -> str:
    return uuid.uuid4().hex


def held_meeting(village, actor, title: str = "村民代表会议"):
    """A meeting of ``village`` that has been held (announced, then concluded)."""
    from deliberation import services as deliberation_services
    from tests.deliberation.factories import open_meeting

    meeting = open_meeting(actor, village, title=title)
    return deliberation_services.meeting_conclude(
        actor=actor, meeting=meeting, resolutions=f"{title}决定"
    )

"""Points fixtures built through the real services, so tests see what production writes."""

import datetime as dt
import uuid
from decimal import Decimal

from points import services
from points.models import Category, PointsRule


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


def fund(household, actor, points: int, village=None):
    """Give a household ``points`` through a bulk award of a repeatable rule."""
    rule = make_rule(
        village or household.village,
        actor,
        name="志愿服务",
        points=points,
        allow_same_day_repeat=True,
    )
    services.points_bulk_award(
        actor=actor, rule=rule, households=[household], occurred_on=dt.date.today()
    )
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

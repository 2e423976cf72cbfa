"""Demo activity on top of the demo territory: departments, visits, requests at every stage,
points rules, awards and a stocked points supermarket — all through the real services."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from grids import services as grid_services
from grids.models import Household, Representative, Village, Visit
from points import services as points_services
from points.models import Category

from . import services
from .models import Request

DEMO_PASSWORD = "demo-pass-2024"  # noqa: S105 - printed for the local demo, never used in production
DEPARTMENTS = ("民政办", "农业农村办", "自然资源办", "医保办")
REQUEST_CATEGORIES = ("基础设施", "环境卫生", "社会保障", "矛盾纠纷", "政策咨询")
REQUEST_TITLES = (
    ("路灯不亮", "基础设施"),
    ("水渠堵塞", "基础设施"),
    ("垃圾清运不及时", "环境卫生"),
    ("低保申请咨询", "社会保障"),
    ("宅基地边界纠纷", "矛盾纠纷"),
    ("医保缴费咨询", "政策咨询"),
    ("村道破损", "基础设施"),
    ("独居老人需要上门体检", "社会保障"),
)
# (name, category, points, extra options) — figures from the seed reports' village rules.
POINTS_RULES = (
    ("志愿服务", "社会公德", 10, {"allow_same_day_repeat": True}),
    ("垃圾分类", "环境整治", 20, {"max_per_month": 1}),
    ("孝老爱亲", "家庭美德", 10, {"max_per_quarter": 2}),
    ("创业带动", "产业发展", 100, {"needs_review": True}),
    ("违规操办红白喜事", "社会公德", -20, {"black_list_offence": True}),
)
PRODUCTS = (("大米5斤", 30, 40), ("洗衣液", 20, 60), ("毛巾", 10, 100), ("食用油", 50, 20))


def seed_activity(
    *, township, township_user, clerks: dict[int, object], rng: random.Random
) -> None:
    """Fill the demo township with a month of believable work."""
    categories = {
        name: services.request_category_create(actor=township_user, township=township, name=name)
        for name in REQUEST_CATEGORIES
    }
    departments = [
        services.department_create(actor=township_user, township=township, name=name)
        for name in DEPARTMENTS
    ]
    handler = grid_services.user_for_phone(
        actor=township_user, phone="13700000001", name="民政办经办人", password=DEMO_PASSWORD
    )
    handler.username = "minzheng"
    handler.save(update_fields=["username"])
    services.department_member_add(actor=township_user, department=departments[0], user=handler)
    points_categories = {
        c.name: c
        for c in points_services.township_categories_ensure(actor=township_user, township=township)
    }
    today = timezone.localdate()
    for village in Village.objects.filter(township=township).order_by("code"):
        clerk = clerks[village.pk]
        _visits(village, rng)
        _requests(village, clerk, categories, departments[0], handler, rng)
        _points(village, clerk, points_categories, today, rng)


def _visits(village: Village, rng: random.Random) -> None:
    now = timezone.now()
    for rep in Representative.objects.filter(
        grid__village=village, ended_on__isnull=True
    ).select_related("user"):
        households = list(Household.objects.filter(representative=rep).order_by("number"))
        for household in households[: max(1, len(households) * 2 // 3)]:
            grid_services.visit_record(
                actor=rep.user,
                representative=rep,
                household=household,
                method=rng.choice(Visit.Method.values),
                note=rng.choice(
                    ["身体健康，无诉求", "询问医保缴费", "反映路灯问题", "家中老人需要关照"]
                ),
                visited_at=now - dt.timedelta(days=rng.randint(0, 9), hours=rng.randint(0, 8)),
            )


def _requests(village, clerk, categories, department, handler, rng: random.Random) -> None:
    reps = list(
        Representative.objects.filter(grid__village=village, ended_on__isnull=True).select_related(
            "user"
        )
    )
    for index, (title, category) in enumerate(REQUEST_TITLES):
        rep = reps[index % len(reps)]
        household = Household.objects.filter(representative=rep).order_by("?").first()
        kind = (
            Request.Kind.CONSULTATION
            if "咨询" in title
            else (Request.Kind.DISPUTE if "纠纷" in title else Request.Kind.REQUEST)
        )
        request = services.request_report(
            actor=rep.user,
            household=household,
            title=title,
            kind=kind,
            category=categories[category],
            description=f"{household.address}：{title}",
            **(
                {"dispute_parties": "相邻两户（户主双方）", "mediators": "红白理事会成员"}
                if kind == Request.Kind.DISPUTE
                else {}
            ),
        )
        stage = index % 4
        if kind == Request.Kind.CONSULTATION:
            if stage:
                services.consultation_answer(
                    actor=rep.user, request=request, answer="已向村民解释政策并告知办理渠道"
                )
            continue
        if stage == 0:
            continue  # waiting in the triage queue
        if title.startswith("独居老人"):
            services.request_triage(
                actor=clerk, request=request, level=Request.Level.TOWNSHIP, department=department
            )
            services.request_acknowledge(actor=handler, request=request)
            continue
        services.request_triage(actor=clerk, request=request, level=Request.Level.GRID)
        if stage == 1:
            continue
        services.request_start(actor=rep.user, request=request)
        services.request_resolve(actor=rep.user, request=request, note="已联系相关人员处理完毕")
        if index != 6:  # one resolved request still waits for its return visit
            services.return_visit_record(
                actor=rep.user,
                request=request,
                satisfaction=rng.choice(["satisfied", "satisfied", "basically"]),
            )


def _points(
    village, clerk, categories: dict[str, Category], today: dt.date, rng: random.Random
) -> None:
    rules = {}
    for name, category, points, options in POINTS_RULES:
        rules[name] = points_services.rule_create(
            actor=clerk,
            category=categories[category],
            code=f"{village.code[-3:]}-{len(rules) + 1:02d}",
            name=name,
            points=points,
            active_from=today.replace(month=1, day=1),
            village=village,
            **options,
        )
    points_services.base_points_grant(
        year=today.year, points=100, village_ids=[village.pk], actor=clerk
    )
    households = list(Household.objects.filter(village=village).order_by("number"))
    points_services.points_bulk_award(
        actor=clerk,
        rule=rules["垃圾分类"],
        households=rng.sample(households, 30),
        occurred_on=today - dt.timedelta(days=3),
        note="环境整治日",
    )
    points_services.points_bulk_award(
        actor=clerk,
        rule=rules["志愿服务"],
        households=rng.sample(households, 15),
        occurred_on=today - dt.timedelta(days=1),
        note="义务修路",
    )
    points_services.points_bulk_award(
        actor=clerk,
        rule=rules["违规操办红白喜事"],
        households=rng.sample(households, 2),
        occurred_on=today - dt.timedelta(days=5),
        note="大操大办",
    )
    shop = points_services.shop_create(actor=clerk, village=village)
    for name, price, quantity in PRODUCTS:
        product = points_services.product_create(
            actor=clerk, shop=shop, name=name, points_price=price
        )
        points_services.stock_purchase(
            actor=clerk,
            product=product,
            quantity=quantity,
            cost_yuan=Decimal(price) * quantity / 10,
        )
        if name == "毛巾":
            points_services.stock_donation(
                actor=clerk, product=product, quantity=50, donor="乡贤陈先生"
            )

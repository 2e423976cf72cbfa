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
from .models import CatalogueItem, Request

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

# 三个清单 as 娄底 keeps them (seed report 003: 依法自治事项 20 项、依法协助政府工作事项 30 项、
# 减负工作事项 8 项). The report gives the counts, not the items: these are the items such lists
# carry in Hunan, with the law each rests on. (code, title, legal basis)
ORGANIC_LAW = "《村民委员会组织法》"
SELF_GOVERNANCE = (
    (
        "Z-01",
        "召集村民会议、村民代表会议，讨论决定涉及村民利益的事项",
        f"{ORGANIC_LAW}第二十一条至第二十六条",
    ),
    ("Z-02", "组织制定和修改村民自治章程、村规民约", f"{ORGANIC_LAW}第二十七条"),
    ("Z-03", "组织村民委员会换届选举和成员补选", f"{ORGANIC_LAW}第十一条至第二十条"),
    (
        "Z-04",
        "推选村民小组长、村民代表，开展联户代表联系群众",
        f"{ORGANIC_LAW}第二十五条、第二十八条",
    ),
    ("Z-05", "实行村务公开，公布财务收支和惠农政策落实情况", f"{ORGANIC_LAW}第三十条"),
    ("Z-06", "管护村内道路、水渠、路灯等公共设施", f"{ORGANIC_LAW}第八条"),
    ("Z-07", "管理村集体所有的土地和其他财产", f"{ORGANIC_LAW}第八条"),
    ("Z-08", "组织实施“一事一议”筹资筹劳", f"{ORGANIC_LAW}第二十四条"),
    ("Z-09", "调解民间纠纷", "《人民调解法》第八条"),
    ("Z-10", "推进移风易俗，红白喜事简办", f"{ORGANIC_LAW}第二十七条"),
    ("Z-11", "组织村庄环境卫生整治", f"{ORGANIC_LAW}第八条"),
    ("Z-12", "组织村民开展文化体育活动", f"{ORGANIC_LAW}第十条"),
    ("Z-13", "开展邻里互助，组织邻里服务日", f"{ORGANIC_LAW}第二条"),
    ("Z-14", "村务监督委员会开展民主监督", f"{ORGANIC_LAW}第三十二条"),
    ("Z-15", "组织民主评议村民委员会成员", f"{ORGANIC_LAW}第三十三条"),
    ("Z-16", "管理村级档案", "《村级档案管理办法》"),
    ("Z-17", "开展平安村建设和群防群治", f"{ORGANIC_LAW}第二条"),
    ("Z-18", "向人民政府反映村民的意见、要求和建议", f"{ORGANIC_LAW}第二条"),
    ("Z-19", "支持和组织村民发展集体经济和合作经济", f"{ORGANIC_LAW}第八条"),
    ("Z-20", "教育引导村民爱护公共财产、保护生态环境", f"{ORGANIC_LAW}第九条"),
)
ASSIST_GOVERNMENT = (
    ("X-01", "协助开展政策宣传和上情下达", f"{ORGANIC_LAW}第五条"),
    ("X-02", "协助受理、调查核实最低生活保障和特困供养申请", "《社会救助暂行办法》第十一条"),
    ("X-03", "协助开展城乡居民养老保险参保缴费和待遇资格认证", "《社会保险法》"),
    ("X-04", "协助开展城乡居民医疗保险参保缴费宣传", "《社会保险法》"),
    ("X-05", "协助办理残疾人证申请和残疾人两项补贴", "《残疾人保障法》"),
    ("X-06", "协助开展高龄津贴申请和独居老人探访", "《老年人权益保障法》"),
    ("X-07", "协助做好农村留守儿童和困境儿童关爱保护", "《未成年人保护法》第九十七条"),
    ("X-08", "协助做好退役军人和优抚对象服务", "《退役军人保障法》"),
    ("X-09", "协助开展人口普查、农业普查等统计调查", "《统计法》第七条"),
    ("X-10", "协助开展户籍和流动人口登记服务", "《户口登记条例》"),
    ("X-11", "协助开展人口与家庭服务", "《人口与计划生育法》"),
    ("X-12", "协助开展兵役登记和征兵宣传", "《兵役法》"),
    ("X-13", "协助开展耕地保护和违法占地巡查", "《土地管理法》"),
    ("X-14", "协助开展宅基地申请审核和农房建设管理", "《土地管理法》第六十二条"),
    ("X-15", "协助开展防汛抗旱和地质灾害群测群防", "《防洪法》"),
    ("X-16", "协助开展森林防火和野外用火管理宣传", "《森林防火条例》"),
    ("X-17", "协助开展安全生产、消防和燃气安全排查", "《消防法》"),
    ("X-18", "协助开展农村道路交通安全劝导", "《道路交通安全法》"),
    ("X-19", "协助开展禁毒宣传和吸毒人员帮扶", "《禁毒法》"),
    ("X-20", "协助开展矛盾纠纷排查和信访接待", "《信访工作条例》"),
    ("X-21", "协助开展社区矫正和安置帮教", "《社区矫正法》"),
    ("X-22", "协助开展动物疫病防控和畜禽养殖登记", "《动物防疫法》"),
    ("X-23", "协助核实和公示耕地地力保护补贴", "惠农补贴政策"),
    ("X-24", "协助开展防返贫动态监测和帮扶", "巩固拓展脱贫攻坚成果政策"),
    ("X-25", "协助做好农村饮水安全工程管护", "《农村供水工程管理办法》"),
    ("X-26", "协助开展河长制巡河护河", "《河道管理条例》"),
    ("X-27", "协助推进农村改厕和生活垃圾分类", "农村人居环境整治政策"),
    ("X-28", "协助开展爱国卫生、传染病防控和疫苗接种宣传", "《传染病防治法》"),
    ("X-29", "协助开展就业创业服务和农民工权益维护", "《就业促进法》"),
    ("X-30", "协助开展选民登记和人大代表选举", "《选举法》"),
)
BURDEN_RELIEF = (
    ("J-01", "要求村级出具无犯罪记录证明", "证明事项清理规定"),
    ("J-02", "要求村级出具可由户籍信息核实的亲属关系证明", "证明事项清理规定"),
    ("J-03", "要求村级出具应由职能部门核实的居住、婚姻状况证明", "证明事项清理规定"),
    ("J-04", "向村级下达招商引资、协税护税等经济指标", "基层减负规定"),
    ("J-05", "要求村级承担行政执法、拆违等部门法定职责", "基层减负规定"),
    ("J-06", "以村级名义设立工作机构、挂牌", "基层减负规定"),
    ("J-07", "要求村级填报与自治无关的报表台账、工作群打卡", "基层减负规定"),
    ("J-08", "要求村级代收代缴法定之外的各类费用", "基层减负规定"),
)
# This month's work list in every village: (catalogue code, title, per household?)
WORK_ITEMS = (
    ("X-04", "宣传城乡居民医保缴费，逐户告知截止时间", True),
    ("X-06", "探访独居老人，了解身体和生活情况", True),
    ("Z-11", "清理网格内沟渠和房前屋后垃圾", False),
    ("X-15", "排查网格内危房和地质灾害隐患点", False),
)


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
    catalogue = _catalogue(township, township_user)
    today = timezone.localdate()
    for village in Village.objects.filter(township=township).order_by("code"):
        clerk = clerks[village.pk]
        _visits(village, rng)
        _requests(village, clerk, categories, departments[0], handler, rng, catalogue)
        _work_list(village, clerk, catalogue, today)
        _points(village, clerk, township_user, points_categories, today, rng)


def _catalogue(township, actor) -> dict[str, CatalogueItem]:
    """The township's 三个清单 (20 / 30 / 8 items), each added with its history row."""
    kinds = (
        (CatalogueItem.ListKind.SELF_GOVERNANCE, SELF_GOVERNANCE),
        (CatalogueItem.ListKind.ASSIST_GOVERNMENT, ASSIST_GOVERNMENT),
        (CatalogueItem.ListKind.BURDEN_RELIEF, BURDEN_RELIEF),
    )
    added_on = dt.date(2022, 11, 1)  # when 娄底 published its lists
    return {
        code: services.catalogue_item_add(
            actor=actor,
            township=township,
            list_kind=kind,
            code=code,
            title=title,
            legal_basis=basis,
            added_on=added_on,
            reason="按市民政局等八部门“三个清单”列入",
        )
        for kind, items in kinds
        for code, title, basis in items
    }


def _work_list(village, clerk, catalogue: dict[str, CatalogueItem], today: dt.date) -> None:
    services.work_list_publish(
        actor=clerk,
        village=village,
        month=today,
        items=[(title, catalogue[code], per) for code, title, per in WORK_ITEMS],
    )


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


def _requests(
    village, clerk, categories, department, handler, rng: random.Random, catalogue
) -> None:
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
        if title == "水渠堵塞":
            # 村事: the village handles it and cites the catalogue item it falls under.
            services.request_triage(
                actor=clerk,
                request=request,
                level=Request.Level.VILLAGE,
                handler=clerk,
                catalogue_item=catalogue["Z-06"],
            )
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
    village,
    clerk,
    approver,
    categories: dict[str, Category],
    today: dt.date,
    rng: random.Random,
) -> None:
    rules = {}
    # Early in January the demo's deeds (up to 5 days back) fall in the year before.
    active_from = min(today.replace(month=1, day=1), today - dt.timedelta(days=30))
    for name, category, points, options in POINTS_RULES:
        rules[name] = points_services.rule_create(
            actor=clerk,
            category=categories[category],
            code=f"{village.code[-3:]}-{len(rules) + 1:02d}",
            name=name,
            points=points,
            active_from=active_from,
            village=village,
            **options,
        )
    points_services.base_points_grant(
        year=today.year, points=100, village_ids=[village.pk], actor=clerk
    )
    households = list(Household.objects.filter(village=village).order_by("number"))
    # 批量记分 as staff do it: the village clerk submits, the township cadre approves.
    for rule_name, count, days_ago, note in (
        ("垃圾分类", 30, 3, "环境整治日"),
        ("志愿服务", 15, 1, "义务修路"),
        ("违规操办红白喜事", 2, 5, "大操大办"),
    ):
        batch = points_services.claim_batch_submit(
            actor=clerk,
            rule=rules[rule_name],
            households=rng.sample(households, count),
            occurred_on=today - dt.timedelta(days=days_ago),
            note=note,
        )
        points_services.claim_batch_approve(actor=approver, batch=batch)
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

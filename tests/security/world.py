"""One shared data set for the security tests, built through the real services.

Village X (430903106201) has grids A and B; village Y (430903106202) is its neighbour in the same
township. Everything private lives in village X, in grid A, on representative A's households.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.utils import timezone

from deliberation import services as delib
from deliberation.models import BodyKind
from governance import analysis, jobs
from governance import services as gov
from governance.models import WorkListItem
from grids import services as grid_services
from grids.models import Role, Visit
from points import lists
from points import services as pts
from tests.deliberation.factories import open_meeting, standard_body
from tests.deliberation.test_rules import _in_force
from tests.factories import (
    GridFactory,
    ResidentFactory,
    TownshipFactory,
    UserFactory,
    VillageFactory,
    representative_user,
    user_with_scope,
)
from tests.governance.factories import DepartmentFactory, department_handler, report
from tests.points.factories import fund, held_meeting, make_rule, make_shop_with_products, new_key

ROLES = (
    "anonymous",
    "rep_a",
    "rep_b",
    "clerk_x",
    "clerk_y",
    "township",
    "handler",
    "superuser",
)
REPORT_MONTH = dt.date(2026, 10, 1)
PHONE_OF_HEAD = "13912345678"


@dataclass
class World:
    users: dict = field(default_factory=dict)
    sessions: dict = field(default_factory=dict)
    obj: SimpleNamespace = field(default_factory=SimpleNamespace)


def build_world() -> World:
    w = World()
    o = w.obj
    o.township = TownshipFactory(code="430903106", name="欧江岔镇")
    o.village_x = VillageFactory(township=o.township, code="430903106201", name="长东湖村")
    o.village_y = VillageFactory(township=o.township, code="430903106202", name="注湖港村")
    o.grid_a = GridFactory(village=o.village_x, code="430903106201001", name="第一网格")
    o.grid_b = GridFactory(village=o.village_x, code="430903106201002", name="第二网格")
    o.grid_y = GridFactory(village=o.village_y, code="430903106202001", name="注湖港一组")

    o.rep_a = representative_user(o.grid_a, households=3)
    o.rep_b = representative_user(o.grid_b, households=2)
    o.rep_y = representative_user(o.grid_y, households=1)
    o.household = o.rep_a.households.order_by("pk").first()
    o.head = ResidentFactory(household=o.household, name="张三明", phone=PHONE_OF_HEAD)
    o.household_y = o.rep_y.households.get()

    clerk_x = user_with_scope(Role.VILLAGE_STAFF, village=o.village_x, is_staff=True)
    clerk_x2 = user_with_scope(Role.VILLAGE_STAFF, village=o.village_x, is_staff=True)
    clerk_y = user_with_scope(Role.VILLAGE_STAFF, village=o.village_y, is_staff=True)
    township = user_with_scope(Role.TOWNSHIP_STAFF, township=o.township, is_staff=True)
    o.department = DepartmentFactory(township=o.township, name="农业农村办")
    handler = department_handler(o.department)
    superuser = UserFactory(is_superuser=True, is_staff=True)
    w.users = {
        "anonymous": None,
        "rep_a": o.rep_a.user,
        "rep_b": o.rep_b.user,
        "clerk_x": clerk_x,
        "clerk_y": clerk_y,
        "township": township,
        "handler": handler,
        "superuser": superuser,
    }
    o.clerk_x2 = clerk_x2

    # Requests: one sent up to the department, one still at the grid.
    o.request = report(o.rep_a, household=o.household, title="路灯不亮")
    gov.request_triage(actor=clerk_x, request=o.request, level="township", department=o.department)
    o.request.refresh_from_db()
    o.request_grid = report(o.rep_a, household=o.household, title="沟渠堵塞")
    o.visit = grid_services.visit_record(
        actor=o.rep_a.user,
        representative=o.rep_a,
        household=o.household,
        method=Visit.Method.IN_PERSON,
        note="走访",
    )
    o.notice = gov.notice_publish(
        actor=clerk_x, title="秋收防火", body="注意用火", village=o.village_x
    )
    gov.work_list_publish(
        actor=clerk_x,
        village=o.village_x,
        month=timezone.localdate(),
        items=[("清理沟渠", None, False)],
    )
    o.work_item = WorkListItem.objects.filter(work_list__village=o.village_x).first()

    # Points: a rule, a claim, an award, a redemption, an honour.
    o.rule = make_rule(o.village_x, clerk_x)
    fund(o.household, clerk_x, 100)
    o.claim = pts.claim_submit(
        actor=o.rep_a.user, household=o.household, rule=o.rule, occurred_on=timezone.localdate()
    )
    # 批量记分 recorded by the second clerk of X, waiting for another staff member's approval.
    o.batch = pts.claim_batch_submit(
        actor=clerk_x2,
        rule=o.rule,
        households=list(o.rep_a.households.order_by("pk")),
        occurred_on=timezone.localdate() - dt.timedelta(days=1),
    )
    o.shop, products = make_shop_with_products(o.village_x, clerk_x)
    o.redemption = pts.household_redeem(
        actor=clerk_x,
        household=o.household,
        shop=o.shop,
        quantities={products[0].pk: 1},
        request_key=new_key(),
    )
    o.held_meeting = held_meeting(o.village_x, clerk_x, title="评议会")
    o.honour = pts.honour_award(
        actor=clerk_x, household=o.household, title="文明家庭", year=2026, meeting=o.held_meeting
    )
    o.quarter = lists.quarter_of(timezone.localdate())
    lists.village_lists_publish(village=o.village_x, quarter=o.quarter)
    from points.models import ListEntry

    o.list_entry = ListEntry.objects.filter(publication__village=o.village_x).first()
    o.objection = lists.objection_record(actor=clerk_x, entry=o.list_entry, text="名次有误")

    # Deliberation: bodies, a rule version in force, one in consultation, a meeting with a motion.
    delib.village_bodies_ensure(village=o.village_x, actor=clerk_x)
    o.body = standard_body(o.village_x, BodyKind.VILLAGERS_ASSEMBLY)
    o.version_in_force = _in_force(clerk_x, township, o.village_x, o.grid_b)
    o.version = delib.rule_version_create(
        actor=clerk_x,
        village=o.village_x,
        title="长东湖村村规民约（修订）",
        articles=[("孝老爱亲", "子女应当赡养父母。")],
    )
    delib.rule_version_open_consultation(
        actor=clerk_x, version=o.version, until=timezone.localdate() + dt.timedelta(days=7)
    )
    o.meeting = open_meeting(clerk_x, o.village_x, body=o.body, title="修路议事会")
    delib.attendance_set(actor=clerk_x, meeting=o.meeting, resident_ids=[o.head.pk])
    o.motion = delib.motion_create(
        actor=clerk_x, village=o.village_x, meeting=o.meeting, title="修村道"
    )
    delib.motion_open(actor=clerk_x, motion=o.motion)

    # Reports and a job of clerk X.
    analysis.village_report_store(village=o.village_x, month=REPORT_MONTH)
    analysis.township_report_store(township=o.township, month=REPORT_MONTH)
    o.job, _ = jobs.job_request(
        kind="monthly",
        key=jobs.monthly_key(REPORT_MONTH, o.village_x.code),
        params={"month": f"{REPORT_MONTH:%Y-%m}", "village": o.village_x.code},
        requested_by=clerk_x,
    )
    assert get_user_model().objects.filter(is_superuser=True).count() == 1
    return w

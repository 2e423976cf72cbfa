"""Objects at every step a form can act on, added to the shared world for the property tests:
village rule versions in drafting, review, approved (with a closed 村民会议 vote on it) and
filed; requests triaged, in progress, resolved and a consultation; a claim under a rule that
needs a meeting's decision; a council with a member; an announced 村民会议."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from django.utils import timezone

from deliberation import services as delib
from deliberation.models import Body, BodyKind
from governance import services as gov
from points import services as pts
from tests.deliberation.factories import open_meeting, standard_body
from tests.deliberation.test_rules import ARTICLES, _approved, _assembly_motion, _draft
from tests.factories import ResidentFactory
from tests.governance.factories import in_progress, report, resolved, triaged
from tests.points.factories import make_rule


def build_stages(world) -> SimpleNamespace:
    o = world.obj
    clerk, township = world.users["clerk_x"], world.users["township"]
    s = SimpleNamespace()

    # --- village rules: one version at each step a form acts on --------------------------
    s.draft = _draft(clerk, o.village_x)
    s.review = _draft(clerk, o.village_x)
    delib.rule_version_open_consultation(
        actor=clerk, version=s.review, until=timezone.localdate() + dt.timedelta(days=7)
    )
    delib.rule_version_submit_review(actor=clerk, version=s.review)
    s.approved = _approved(clerk, township, o.village_x)
    s.adopting_motion = _assembly_motion(clerk, o.village_x, o.grid_b, version=s.approved)
    s.filed = _approved(clerk, township, o.village_x, ARTICLES[:1])
    delib.rule_version_adopt(
        actor=clerk,
        version=s.filed,
        motion=_assembly_motion(clerk, o.village_x, o.grid_b, version=s.filed),
    )
    delib.rule_version_file(actor=township, version=s.filed)
    for version in (s.draft, s.review, s.approved, s.filed):
        version.refresh_from_db()
    s.assembly = standard_body(o.village_x, BodyKind.VILLAGERS_ASSEMBLY)
    s.assembly_meeting = open_meeting(clerk, o.village_x, body=s.assembly, title="村民会议")

    # --- a council with one member, and a resident who is not yet on it -------------------
    s.council = Body.objects.get(
        village=o.village_x, grid__isnull=True, kind=BodyKind.MORAL_COUNCIL
    )
    s.member = delib.membership_add(
        actor=clerk,
        body=s.council,
        resident=ResidentFactory(household=o.household, name="李四"),
        joined_on=dt.date(2025, 1, 1),
    )
    s.newcomer = ResidentFactory(household=o.household, name="王五")

    # --- requests of representative A at each step --------------------------------------
    rep = o.rep_a
    s.triaged = triaged(rep, clerk, household=o.household, title="垃圾未清")
    s.in_progress = in_progress(rep, clerk, household=o.household, title="水管漏水")
    s.resolved = resolved(rep, clerk, household=o.household, title="道路坑洼")
    s.consultation = report(rep, household=o.household, kind="consultation", title="低保咨询")
    s.resolved.refresh_from_db()
    gov.request_add_progress(actor=rep.user, request=s.in_progress, note="已联系施工队")

    # --- a claim under a rule that needs the decision of a held meeting --------------------
    s.review_rule = make_rule(o.village_x, clerk, name="创业带动", points=100, needs_review=True)
    s.review_claim = pts.claim_submit(
        actor=rep.user,
        household=o.household,
        rule=s.review_rule,
        occurred_on=timezone.localdate() - dt.timedelta(days=2),
    )
    return s

"""Every step of a village-rule version tried from every status it may not be taken from.

The cases are generated from ``services.RULE_VERSION_STEPS`` × ``RuleVersion.Status``, so a new
status or a new step is tried without anyone remembering to add it here.
"""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.utils import timezone

from deliberation import services
from deliberation.models import (
    Article,
    BodyKind,
    Comment,
    Meeting,
    Motion,
    RuleReview,
    RuleVersion,
)
from grids.models import AuditEntry
from tests.deliberation.factories import open_meeting, standard_body
from tests.deliberation.test_rules import (
    _approved,
    _assembly_motion,
    _draft,
    _in_force,
)

Status = RuleVersion.Status


def _version_in(status, clerk, township_staff, village, grid):
    """A version brought to ``status`` through the real services."""
    if status == Status.SUPERSEDED:
        old = _in_force(clerk, township_staff, village, grid)
        _in_force(clerk, township_staff, village, grid)
        old.refresh_from_db()
        return old
    version = _draft(clerk, village)
    steps = [
        lambda: services.rule_version_open_consultation(
            actor=clerk, version=version, until=timezone.localdate() + dt.timedelta(days=7)
        ),
        lambda: services.rule_version_submit_review(actor=clerk, version=version),
        lambda: services.rule_version_review(
            actor=township_staff, version=version, approve=True, opinion=""
        ),
        lambda: services.rule_version_adopt(
            actor=clerk,
            version=version,
            motion=_assembly_motion(clerk, village, grid, version=version),
        ),
        lambda: services.rule_version_file(actor=township_staff, version=version),
        lambda: services.rule_version_bring_into_force(actor=clerk, version=version),
    ]
    order = [
        Status.DRAFTING,
        Status.CONSULTATION,
        Status.REVIEW,
        Status.APPROVED,
        Status.ADOPTED,
        Status.FILED,
        Status.IN_FORCE,
    ]
    for step in steps[: order.index(status)]:
        step()
    version.refresh_from_db()
    assert version.status == status
    return version


# How each step is attempted; a step with two outcomes (approve / return) is tried both ways.
ATTEMPTS = {
    "article_save": {
        "": lambda w: services.article_save(actor=w.clerk, version=w.version, number=1, text="改")
    },
    "open_consultation": {
        "": lambda w: services.rule_version_open_consultation(
            actor=w.clerk, version=w.version, until=timezone.localdate() + dt.timedelta(days=7)
        )
    },
    "submit_review": {
        "": lambda w: services.rule_version_submit_review(actor=w.clerk, version=w.version)
    },
    "review": {
        "approve": lambda w: services.rule_version_review(
            actor=w.township_staff, version=w.version, approve=True, opinion=""
        ),
        "return": lambda w: services.rule_version_review(
            actor=w.township_staff, version=w.version, approve=False, opinion="第二条于法无据"
        ),
    },
    "put_to_vote": {
        "": lambda w: services.rule_version_put_to_vote(
            actor=w.clerk, version=w.version, meeting=w.assembly_meeting
        )
    },
    "adopt": {
        "": lambda w: services.rule_version_adopt(
            actor=w.clerk, version=w.version, motion=w.some_motion
        )
    },
    "file": {"": lambda w: services.rule_version_file(actor=w.township_staff, version=w.version)},
    "bring_into_force": {
        "": lambda w: services.rule_version_bring_into_force(actor=w.clerk, version=w.version)
    },
}

REFUSED = [
    (step, how, status)
    for step, (required, _label, _leads_to) in services.RULE_VERSION_STEPS.items()
    for how in ATTEMPTS.get(step, {"?": None})
    for status in Status.values
    if status != required
]


def test_every_step_of_the_table_has_an_attempt():
    assert set(ATTEMPTS) == set(services.RULE_VERSION_STEPS)


def test_every_status_is_reachable_by_some_step_or_is_the_start():
    reached = {s for _req, _label, leads in services.RULE_VERSION_STEPS.values() for s in leads}
    # superseded is reached by bringing the next version into force
    assert set(Status.values) - reached == {Status.SUPERSEDED}


class _World:
    pass


def _state(version):
    return {
        "version": model_to_dict(RuleVersion.objects.get(pk=version.pk)),
        "audit": AuditEntry.objects.count(),
        "reviews": RuleReview.objects.count(),
        "motions": Motion.objects.count(),
        "articles": list(Article.objects.order_by("pk").values_list("pk", "text")),
    }


@pytest.mark.parametrize(
    ("step", "how", "status"),
    REFUSED,
    ids=[f"{s}{'-' + h if h else ''}-from-{st}" for s, h, st in REFUSED],
)
def test_step_from_a_wrong_status_is_refused_and_changes_nothing(
    step, how, status, village, grid, village_clerk, township_staff
):
    # Given a version in ``status`` and everything the step needs
    w = _World()
    w.clerk, w.township_staff = village_clerk, township_staff
    w.version = _version_in(status, village_clerk, township_staff, village, grid)
    services.village_bodies_ensure(village=village, actor=village_clerk)
    w.assembly_meeting = open_meeting(
        village_clerk, village, body=standard_body(village, BodyKind.VILLAGERS_ASSEMBLY)
    )
    w.some_motion = w.version.adopted_by or Motion.objects.create(
        village=village, mode="household_ballot", electorate="households", title="别的事项"
    )
    before = _state(w.version)

    # When the step is attempted
    with pytest.raises(ValidationError) as refused:
        ATTEMPTS[step][how](w)

    # Then it is refused with a message naming the current and the required status
    message = " ".join(refused.value.messages)
    required = services.RULE_VERSION_STEPS[step][0]
    assert f"当前状态为“{Status(status).label}”" in message
    assert f"只有“{Status(required).label}”状态的版本可以" in message
    # and nothing was written
    assert _state(w.version) == before


@pytest.mark.parametrize("status", [s for s in Status.values if s != Status.CONSULTATION])
def test_comment_outside_consultation_is_refused(
    status, village, grid, village_clerk, township_staff
):
    version = _version_in(status, village_clerk, township_staff, village, grid)
    before = Comment.objects.count()
    with pytest.raises(ValidationError, match="该版本不在征求意见期，不能提交意见"):
        services.comment_add(
            actor=None, article=version.articles.first(), author_name="孙八", text="意见"
        )
    assert Comment.objects.count() == before


def test_approved_version_is_adopted_only_through_its_own_vote(
    village, grid, village_clerk, township_staff
):
    """The happy path the table refuses everywhere else: approved → put to vote → adopted."""
    version = _approved(village_clerk, township_staff, village)
    motion = _assembly_motion(village_clerk, village, grid, version=version)
    assert motion.rule_version == version
    assert motion.meeting.status == Meeting.Status.HELD
    services.rule_version_adopt(actor=village_clerk, version=version, motion=motion)
    version.refresh_from_db()
    assert (version.status, version.adopted_by) == (Status.ADOPTED, motion)

"""Village rule versions: every transition, the refused ones, supersession, commitments."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from deliberation import selectors, services
from deliberation.models import (
    BodyKind,
    Comment,
    Commitment,
    Meeting,
    Motion,
    RuleReview,
    RuleVersion,
)
from grids.models import AuditEntry, Resident
from tests.deliberation.factories import households_with_adults, open_meeting, standard_body

ARTICLES = [("孝老爱亲", "子女应当赡养父母。"), ("移风易俗", "红白喜事从简办理。")]


def _draft(clerk, village, articles=ARTICLES):
    return services.rule_version_create(
        actor=clerk, village=village, title="长东湖村村规民约", articles=articles
    )


def _approved(clerk, township_staff, village, articles=ARTICLES):
    version = _draft(clerk, village, articles)
    services.rule_version_open_consultation(
        actor=clerk, version=version, until=timezone.localdate() + dt.timedelta(days=7)
    )
    services.rule_version_submit_review(actor=clerk, version=version)
    return services.rule_version_review(
        actor=township_staff, version=version, approve=True, opinion=""
    )


def _assembly_motion(
    clerk,
    village,
    grid,
    *,
    body_kind=BodyKind.VILLAGERS_ASSEMBLY,
    yes=None,
    version=None,
    title="通过村规民约",
):
    """A closed motion of the village's assembly, every adult present, ``yes`` in favour
    (all but one by default); put to the vote for ``version`` when one is given."""
    households_with_adults(grid, 4)
    people = list(Resident.objects.filter(household__village=village).order_by("id"))
    services.village_bodies_ensure(village=village, actor=clerk)
    body = standard_body(village, body_kind)
    if body_kind == BodyKind.REPRESENTATIVES_ASSEMBLY:
        for person in people:
            services.membership_add(actor=clerk, body=body, resident=person)
    meeting = open_meeting(clerk, village, body=body, title=f"{body.name}（审议村规民约）")
    services.attendance_set(actor=clerk, meeting=meeting, resident_ids=[p.pk for p in people])
    if version is not None:
        motion = services.rule_version_put_to_vote(actor=clerk, version=version, meeting=meeting)
    else:
        motion = services.motion_create(actor=clerk, village=village, meeting=meeting, title=title)
    services.motion_open(actor=clerk, motion=motion)
    for index, person in enumerate(people):
        choice = "yes" if index < (len(people) - 1 if yes is None else yes) else "no"
        services.vote_cast(actor=clerk, motion=motion, resident=person, choice=choice)
    services.meeting_conclude(
        actor=clerk, meeting=meeting, minutes="逐条审议", resolutions="表决村规民约修订稿"
    )
    motion.refresh_from_db()
    return motion


def _in_force(clerk, township_staff, village, grid, articles=ARTICLES):
    version = _approved(clerk, township_staff, village, articles)
    services.rule_version_adopt(
        actor=clerk, version=version, motion=_assembly_motion(clerk, village, grid, version=version)
    )
    services.rule_version_file(actor=township_staff, version=version)
    return services.rule_version_bring_into_force(actor=clerk, version=version)


def _status(version):
    return RuleVersion.objects.get(pk=version.pk).status


def test_draft_gets_numbered_articles(village, village_clerk):
    version = _draft(village_clerk, village)
    assert version.number == 1
    assert list(version.articles.values_list("number", "title")) == [
        (1, "孝老爱亲"),
        (2, "移风易俗"),
    ]
    assert _draft(village_clerk, village).number == 2


def test_full_lifecycle_to_in_force(village, grid, village_clerk, township_staff):
    version = _in_force(village_clerk, township_staff, village, grid)
    version.refresh_from_db()
    assert version.status == RuleVersion.Status.IN_FORCE
    assert version.adopted_by is not None and version.filed_by == township_staff
    actions = set(
        AuditEntry.objects.filter(object_type="deliberation.ruleversion").values_list(
            "action", flat=True
        )
    )
    assert {"rule_consultation_open", "rule_review_approve", "rule_adopt", "rule_file"} <= actions


def test_comment_only_during_consultation(village, village_clerk):
    version = _draft(village_clerk, village)
    article = version.articles.first()
    with pytest.raises(ValidationError, match="不在征求意见期"):
        services.comment_add(actor=None, article=article, author_name="李四", text="好")
    services.rule_version_open_consultation(
        actor=village_clerk, version=version, until=timezone.localdate()
    )
    services.comment_add(actor=None, article=article, author_name="李四", text="建议补充")
    assert Comment.objects.get().channel == Comment.Channel.PUBLIC


def test_representative_passes_on_a_comment_for_their_household(village, representative):
    clerk_version = None
    from grids.models import Role
    from tests.factories import user_with_scope

    clerk = user_with_scope(Role.VILLAGE_STAFF, village=village)
    clerk_version = _draft(clerk, village)
    services.rule_version_open_consultation(
        actor=clerk, version=clerk_version, until=timezone.localdate()
    )
    household = representative.households.first()
    comment = services.comment_add(
        actor=representative.user,
        article=clerk_version.articles.first(),
        author_name="王五",
        text="同意",
        household=household,
    )
    assert comment.channel == Comment.Channel.REPRESENTATIVE
    assert comment.recorded_by == representative.user


def test_review_return_goes_back_to_drafting_with_an_opinion(
    village, village_clerk, township_staff
):
    version = _draft(village_clerk, village)
    services.rule_version_open_consultation(
        actor=village_clerk, version=version, until=timezone.localdate()
    )
    services.rule_version_submit_review(actor=village_clerk, version=version)
    with pytest.raises(ValidationError, match="须写明审查意见"):
        services.rule_version_review(
            actor=township_staff, version=version, approve=False, opinion=""
        )
    services.rule_version_review(
        actor=township_staff, version=version, approve=False, opinion="第二条罚款条款于法无据"
    )
    version.refresh_from_db()
    assert version.status == RuleVersion.Status.DRAFTING
    assert version.review_opinion == "第二条罚款条款于法无据"
    assert RuleReview.objects.get(version=version).decision == RuleReview.Decision.RETURN
    services.article_save(actor=village_clerk, version=version, number=2, text="倡导从简办理。")
    assert version.articles.get(number=2).text == "倡导从简办理。"


def test_village_clerk_cannot_review_or_file(village, village_clerk):
    version = _draft(village_clerk, village)
    services.rule_version_open_consultation(
        actor=village_clerk, version=version, until=timezone.localdate()
    )
    services.rule_version_submit_review(actor=village_clerk, version=version)
    with pytest.raises(PermissionDenied):
        services.rule_version_review(actor=village_clerk, version=version, approve=True, opinion="")
    assert _status(version) == RuleVersion.Status.REVIEW


def test_article_cannot_change_after_drafting(village, village_clerk):
    version = _draft(village_clerk, village)
    services.rule_version_open_consultation(
        actor=village_clerk, version=version, until=timezone.localdate()
    )
    with pytest.raises(ValidationError, match="只有“起草中”状态的版本可以修改条款"):
        services.article_save(actor=village_clerk, version=version, number=1, text="改")


def test_adoption_before_review_is_refused(village, grid, village_clerk):
    version = _draft(village_clerk, village)
    motion = _assembly_motion(village_clerk, village, grid)
    with pytest.raises(ValidationError, match="只有“审查通过”状态的版本可以登记村民会议通过"):
        services.rule_version_adopt(actor=village_clerk, version=version, motion=motion)


class TestAdoptionIsTiedToTheVersion:
    """Only the 村民会议 vote taken on this version, after its legality review, adopts it."""

    def test_road_vote_closed_before_the_draft_cannot_adopt_it(
        self, village, grid, village_clerk, township_staff
    ):
        # Given a 村民会议 that passed "修通组路" before the rules were even drafted
        road = _assembly_motion(village_clerk, village, grid, title="修通组路")
        assert selectors.motion_outcome(motion=road).passed
        version = _approved(village_clerk, township_staff, village)
        # Then it is not offered, and the service refuses it
        assert road not in selectors.adoptable_motions(version=version)
        with pytest.raises(ValidationError, match="“修通组路”不是就本版本村规民约进行的表决"):
            services.rule_version_adopt(actor=village_clerk, version=version, motion=road)
        assert _status(version) == RuleVersion.Status.APPROVED

    def test_vote_on_one_draft_cannot_adopt_another(
        self, village, grid, village_clerk, township_staff
    ):
        # Given two approved drafts (an amendment is a new version) and a vote on the first
        first = _approved(village_clerk, township_staff, village)
        second = _approved(village_clerk, township_staff, village)
        motion = _assembly_motion(village_clerk, village, grid, version=first)
        assert list(selectors.adoptable_motions(version=second)) == []
        with pytest.raises(ValidationError, match="不是就本版本村规民约进行的表决"):
            services.rule_version_adopt(actor=village_clerk, version=second, motion=motion)
        assert _status(second) == RuleVersion.Status.APPROVED
        services.rule_version_adopt(actor=village_clerk, version=first, motion=motion)
        assert _status(first) == RuleVersion.Status.ADOPTED

    def test_amendment_of_the_rules_in_force_needs_its_own_vote(
        self, village, grid, village_clerk, township_staff
    ):
        in_force = _in_force(village_clerk, township_staff, village, grid)
        amendment = _approved(village_clerk, township_staff, village)
        with pytest.raises(ValidationError, match="不是就本版本村规民约进行的表决"):
            services.rule_version_adopt(
                actor=village_clerk, version=amendment, motion=in_force.adopted_by
            )
        assert _status(amendment) == RuleVersion.Status.APPROVED

    def test_vote_opened_before_the_review_approved_is_refused(
        self, village, grid, village_clerk, township_staff
    ):
        version = _approved(village_clerk, township_staff, village)
        motion = _assembly_motion(village_clerk, village, grid, version=version)
        Motion.objects.filter(pk=motion.pk).update(
            opens_at=version.reviewed_at - dt.timedelta(minutes=1)
        )
        assert list(selectors.adoptable_motions(version=version)) == []
        with pytest.raises(ValidationError, match="开始于本版本合法性审查通过.*之前"):
            services.rule_version_adopt(actor=village_clerk, version=version, motion=motion)
        assert _status(version) == RuleVersion.Status.APPROVED

    def test_draft_cannot_be_put_to_the_representatives_assembly(
        self, village, village_clerk, township_staff
    ):
        version = _approved(village_clerk, township_staff, village)
        services.village_bodies_ensure(village=village, actor=village_clerk)
        meeting = open_meeting(
            village_clerk, village, body=standard_body(village, BodyKind.REPRESENTATIVES_ASSEMBLY)
        )
        with pytest.raises(ValidationError, match="村民代表会议无权制定或修改村规民约"):
            services.rule_version_put_to_vote(actor=village_clerk, version=version, meeting=meeting)
        assert not Motion.objects.filter(rule_version=version).exists()

    def test_draft_cannot_be_put_to_a_wuchang_meeting(self, village, village_clerk, township_staff):
        version = _approved(village_clerk, township_staff, village)
        meeting = open_meeting(village_clerk, village, kind=Meeting.Kind.WUCHANG)
        with pytest.raises(ValidationError, match="村规民约须提交村民会议表决"):
            services.rule_version_put_to_vote(actor=village_clerk, version=version, meeting=meeting)
        assert not Motion.objects.filter(rule_version=version).exists()

    def test_database_refuses_a_household_ballot_on_a_version(
        self, village, village_clerk, township_staff
    ):
        version = _approved(village_clerk, township_staff, village)
        with (
            pytest.raises(IntegrityError, match="motion_rule_version_at_meeting|CHECK"),
            transaction.atomic(),
        ):
            Motion.objects.create(
                village=village,
                mode="household_ballot",
                electorate="households",
                title="按户表决村规民约",
                rule_version=version,
            )

    def test_second_vote_on_an_adopted_version_cannot_be_opened(
        self, village, grid, village_clerk, township_staff
    ):
        version = _approved(village_clerk, township_staff, village)
        services.village_bodies_ensure(village=village, actor=village_clerk)
        spare = services.rule_version_put_to_vote(
            actor=village_clerk,
            version=version,
            meeting=open_meeting(
                village_clerk, village, body=standard_body(village, BodyKind.VILLAGERS_ASSEMBLY)
            ),
        )
        services.rule_version_adopt(
            actor=village_clerk,
            version=version,
            motion=_assembly_motion(village_clerk, village, grid, version=version),
        )
        with pytest.raises(ValidationError, match="不再需要表决"):
            services.motion_open(actor=village_clerk, motion=spare)


def test_representatives_assembly_may_not_adopt_village_rules(
    village, grid, village_clerk, township_staff
):
    version = _approved(village_clerk, township_staff, village)
    motion = _assembly_motion(
        village_clerk, village, grid, body_kind=BodyKind.REPRESENTATIVES_ASSEMBLY
    )
    assert selectors.motion_outcome(motion=motion).passed  # passed, yet not enough
    with pytest.raises(ValidationError, match="村民代表会议无权制定或修改村规民约"):
        services.rule_version_adopt(actor=village_clerk, version=version, motion=motion)
    assert _status(version) == RuleVersion.Status.APPROVED


def test_failed_motion_cannot_adopt(village, grid, village_clerk, township_staff):
    version = _approved(village_clerk, township_staff, village)
    motion = _assembly_motion(village_clerk, village, grid, yes=2, version=version)  # 2 of 4
    with pytest.raises(ValidationError, match="未通过"):
        services.rule_version_adopt(actor=village_clerk, version=version, motion=motion)
    assert _status(version) == RuleVersion.Status.APPROVED


def test_open_motion_cannot_adopt(village, grid, village_clerk, township_staff):
    version = _approved(village_clerk, township_staff, village)
    motion = _assembly_motion(village_clerk, village, grid, version=version)
    Motion.objects.filter(pk=motion.pk).update(status=Motion.Status.OPEN)
    with pytest.raises(ValidationError, match="尚未结束"):
        services.rule_version_adopt(actor=village_clerk, version=version, motion=motion)


def test_new_version_in_force_supersedes_the_old(village, grid, village_clerk, township_staff):
    old = _in_force(village_clerk, township_staff, village, grid)
    new = _in_force(village_clerk, township_staff, village, grid)
    old.refresh_from_db()
    assert old.status == RuleVersion.Status.SUPERSEDED and old.superseded_at is not None
    assert _status(new) == RuleVersion.Status.IN_FORCE
    assert selectors.in_force_version(village_id=village.pk) == new


def test_database_refuses_two_versions_in_force(village, grid, village_clerk, township_staff):
    _in_force(village_clerk, township_staff, village, grid)
    other = _draft(village_clerk, village)
    stray_motion = Motion.objects.create(
        village=village, mode="household_ballot", electorate="households", title="绕过服务"
    )
    now = timezone.now()
    # Every other column is consistent, so only the partial unique constraint can object.
    with (
        pytest.raises(IntegrityError, match="rule_one_version_in_force|ruleversion.rule_id"),
        transaction.atomic(),
    ):
        RuleVersion.objects.filter(pk=other.pk).update(
            status=RuleVersion.Status.IN_FORCE,
            adopted_by=stray_motion,
            adopted_at=now,
            filed_at=now,
            in_force_from=now.date(),
        )


def test_commitments_once_per_household_and_coverage(
    village, grid, other_grid, representative, township_staff
):
    from grids.models import Role
    from tests.factories import user_with_scope

    clerk = user_with_scope(Role.VILLAGE_STAFF, village=village)
    version = _in_force(clerk, township_staff, village, grid)
    mine = list(representative.households.all())
    added = services.commitments_record(
        actor=representative.user,
        version=version,
        households=mine[:4],
        signed_on=timezone.localdate(),
    )
    again = services.commitments_record(
        actor=representative.user,
        version=version,
        households=mine[:5],
        signed_on=timezone.localdate(),
    )
    assert (added, again) == (4, 1)
    assert Commitment.objects.filter(version=version).count() == 5
    coverage = selectors.commitment_coverage(village_id=village.pk, version=version)
    by_grid = {row["grid"].pk: (row["signed"], row["total"]) for row in coverage["grids"]}
    assert by_grid[grid.pk] == (5, grid.households.count())
    assert by_grid[other_grid.pk] == (0, 0)
    assert coverage["signed"] == 5


def test_representative_cannot_record_another_representatives_household(
    village, grid, representative, township_staff
):
    from grids.models import Role
    from tests.factories import HouseholdFactory, user_with_scope

    clerk = user_with_scope(Role.VILLAGE_STAFF, village=village)
    version = _in_force(clerk, township_staff, village, grid)
    stranger_household = HouseholdFactory(grid=grid)
    with pytest.raises(PermissionDenied):
        services.commitments_record(
            actor=representative.user,
            version=version,
            households=[stranger_household],
            signed_on=timezone.localdate(),
        )
    assert not Commitment.objects.exists()


def test_commitment_only_for_version_in_force(village, village_clerk, representative):
    version = _draft(village_clerk, village)
    with pytest.raises(ValidationError, match="施行中"):
        services.commitments_record(
            actor=representative.user,
            version=version,
            households=list(representative.households.all()),
            signed_on=timezone.localdate(),
        )

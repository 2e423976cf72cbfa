"""Meetings, attendance and votes through the services; results computed from the rows."""

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from deliberation import selectors, services
from deliberation.models import (
    AgendaItem,
    BallotTally,
    Body,
    BodyKind,
    Meeting,
    Membership,
    Motion,
    Vote,
    VoteReceipt,
)
from grids.models import AuditEntry, Resident
from grids.services import village_create
from tests.deliberation.factories import (
    households_with_adults,
    open_meeting,
    standard_body,
    villagers_assembly,
)


def _residents(households):
    return list(Resident.objects.filter(household__in=households).order_by("id"))


class TestBodies:
    def test_new_village_gets_assemblies_and_yi_yue_si_hui(self, township, township_staff):
        village = village_create(
            actor=township_staff, township=township, code="430903106299", name="新建村"
        )
        kinds = set(Body.objects.filter(village=village).values_list("kind", flat=True))
        assert kinds == {
            BodyKind.VILLAGERS_ASSEMBLY,
            BodyKind.REPRESENTATIVES_ASSEMBLY,
            BodyKind.AFFAIRS_COUNCIL,
            BodyKind.MORAL_COUNCIL,
            BodyKind.CEREMONY_COUNCIL,
            BodyKind.ANTI_DRUG_GAMBLING,
        }

    def test_ensuring_bodies_twice_creates_nothing_new_and_sets_chair(
        self, village, grid, village_clerk
    ):
        services.village_bodies_ensure(village=village, actor=village_clerk)
        secretary = _residents(households_with_adults(grid, 1))[0]
        services.village_bodies_ensure(village=village, actor=village_clerk, chair=secretary)
        assert Body.objects.filter(village=village).count() == 6
        chairs = Membership.objects.filter(resident=secretary, role=Membership.Role.CHAIR)
        assert chairs.count() == 4  # the 一约四会, not the two assemblies

    def test_second_chair_is_refused(self, village, grid, village_clerk):
        services.village_bodies_ensure(village=village, actor=village_clerk)
        body = standard_body(village, BodyKind.MORAL_COUNCIL)
        first, second = _residents(households_with_adults(grid, 2))
        services.membership_add(actor=village_clerk, body=body, resident=first, role="chair")
        with pytest.raises(ValidationError, match="已有会长"):
            services.membership_add(actor=village_clerk, body=body, resident=second, role="chair")

    def test_other_village_clerk_cannot_add_members(self, village, other_village, grid):
        from grids.models import Role
        from tests.factories import user_with_scope

        services.village_bodies_ensure(village=village, actor=None)
        outsider = user_with_scope(Role.VILLAGE_STAFF, village=other_village)
        body = standard_body(village, BodyKind.MORAL_COUNCIL)
        resident = _residents(households_with_adults(grid, 1))[0]
        with pytest.raises(PermissionDenied):
            services.membership_add(actor=outsider, body=body, resident=resident)

    def test_grid_consultation_group_needs_a_grid(self, village, village_clerk, login):
        response = login(village_clerk).post(
            "/staff/bodies/new/",
            {
                "village": village.pk,
                "kind": BodyKind.GRID_CONSULTATION,
                "name": "第一网格协商议事团",
                "quorum_numerator": 1,
                "quorum_denominator": 2,
                "quorum_strict": "on",
                "majority_numerator": 1,
                "majority_denominator": 2,
                "majority_strict": "on",
                "majority_base": "cast",
            },
        )
        assert "协商议事团须设在网格" in response.content.decode()
        assert not Body.objects.filter(kind=BodyKind.GRID_CONSULTATION).exists()

    def test_assembly_rules_cannot_be_configured(self, village, village_clerk):
        services.village_bodies_ensure(village=village, actor=village_clerk)
        body = standard_body(village, BodyKind.REPRESENTATIVES_ASSEMBLY)
        with pytest.raises(ValidationError, match="由法律规定"):
            services.body_rules_update(
                actor=village_clerk,
                body=body,
                quorum_numerator=1,
                quorum_denominator=2,
                quorum_strict=True,
                majority_numerator=1,
                majority_denominator=2,
                majority_strict=True,
                majority_base="cast",
            )

    def test_changing_a_councils_rules_does_not_rewrite_a_closed_result(
        self, village, grid, village_clerk
    ):
        # Given a 道德评议会 of 4 members, 3 present, 2 yes 1 no: passed by majority of votes cast
        services.village_bodies_ensure(village=village, actor=village_clerk)
        body = standard_body(village, BodyKind.MORAL_COUNCIL)
        people = _residents(households_with_adults(grid, 4))
        for person in people:
            services.membership_add(actor=village_clerk, body=body, resident=person)
        meeting = open_meeting(village_clerk, village, body=body)
        services.attendance_set(
            actor=village_clerk, meeting=meeting, resident_ids=[p.pk for p in people[:3]]
        )
        motion = services.motion_create(
            actor=village_clerk,
            village=village,
            meeting=meeting,
            title="评议",
            electorate="members",
        )
        services.motion_open(actor=village_clerk, motion=motion)
        for person, choice in zip(people[:3], ["yes", "yes", "no"], strict=True):
            services.vote_cast(actor=village_clerk, motion=motion, resident=person, choice=choice)
        services.motion_close(actor=village_clerk, motion=motion)
        assert selectors.motion_outcome(motion=Motion.objects.get(pk=motion.pk)).passed
        # When the council later requires all members to agree
        services.body_rules_update(
            actor=village_clerk,
            body=body,
            quorum_numerator=1,
            quorum_denominator=1,
            quorum_strict=False,
            majority_numerator=1,
            majority_denominator=1,
            majority_strict=False,
            majority_base="present",
        )
        # Then the closed motion's result stands
        assert selectors.motion_outcome(motion=Motion.objects.get(pk=motion.pk)).passed


class TestNotice:
    def test_villagers_assembly_notice_less_than_ten_days_ahead_is_refused(
        self, village, village_clerk
    ):
        body = villagers_assembly(village_clerk, village)
        now = timezone.now()
        meeting = services.meeting_create(
            actor=village_clerk,
            village=village,
            body=body,
            kind=Meeting.Kind.SESSION,
            title="村民会议",
            venue=Meeting.Venue.COURTYARD,
            scheduled_at=now + dt.timedelta(days=10) - dt.timedelta(minutes=1),
            notice_text="审议村规民约",
        )
        with pytest.raises(ValidationError, match="提前十天通知"):
            services.meeting_announce(actor=village_clerk, meeting=meeting, now=now)
        meeting.refresh_from_db()
        assert meeting.status == Meeting.Status.DRAFT
        assert meeting.notice_published_at is None

    def test_exactly_ten_days_ahead_is_accepted(self, village, village_clerk):
        body = villagers_assembly(village_clerk, village)
        now = timezone.now()
        meeting = services.meeting_create(
            actor=village_clerk,
            village=village,
            body=body,
            kind=Meeting.Kind.SESSION,
            title="村民会议",
            venue=Meeting.Venue.COURTYARD,
            scheduled_at=now + dt.timedelta(days=10),
            notice_text="审议村规民约",
        )
        services.meeting_announce(actor=village_clerk, meeting=meeting, now=now)
        assert meeting.__class__.objects.get(pk=meeting.pk).status == Meeting.Status.ANNOUNCED

    def test_urgent_villagers_assembly_may_be_announced_late(self, village, village_clerk):
        body = villagers_assembly(village_clerk, village)
        meeting = services.meeting_create(
            actor=village_clerk,
            village=village,
            body=body,
            kind=Meeting.Kind.SESSION,
            title="紧急村民会议",
            venue=Meeting.Venue.COURTYARD,
            scheduled_at=timezone.now() + dt.timedelta(days=1),
            urgent=True,
            notice_text="防汛",
        )
        services.meeting_announce(actor=village_clerk, meeting=meeting)

    def test_wuchang_meeting_needs_no_ten_days(self, village, village_clerk):
        meeting = services.meeting_create(
            actor=village_clerk,
            village=village,
            kind=Meeting.Kind.WUCHANG,
            title="屋场会",
            venue=Meeting.Venue.WUCHANG,
            venue_name="刘家屋场",
            scheduled_at=timezone.now() + dt.timedelta(hours=3),
            notice_text="商量修路",
            agenda=["修路", "", "垃圾分类"],
        )
        services.meeting_announce(actor=village_clerk, meeting=meeting)
        assert list(
            AgendaItem.objects.filter(meeting=meeting).values_list("position", "title")
        ) == [(1, "修路"), (2, "垃圾分类")]


class TestVillagersAssemblyVote:
    def test_result_is_computed_from_attendance_and_votes(self, village, grid, village_clerk):
        # Given 6 households of one adult and one minor each (6 adults, 6 households)
        households = households_with_adults(grid, 6, adults_each=1, minors_each=1)
        adults = list(
            Resident.objects.filter(household__in=households, birth_date__year=1970).order_by("id")
        )
        body = villagers_assembly(village_clerk, village)
        meeting = open_meeting(village_clerk, village, body=body)
        # When 3 adults attend (exactly half: not a quorum by adults) and one holds a proxy
        # for a fourth household (4 of 6 households = exactly two thirds: a quorum)
        services.attendance_set(
            actor=village_clerk,
            meeting=meeting,
            resident_ids=[a.pk for a in adults[:3]],
            proxies={adults[0].pk: households[3].pk},
        )
        motion = services.motion_create(
            actor=village_clerk, village=village, meeting=meeting, title="修订村规民约"
        )
        services.motion_open(actor=village_clerk, motion=motion)
        for resident, choice in zip(adults[:3], ["yes", "yes", "no"], strict=True):
            services.vote_cast(actor=village_clerk, motion=motion, resident=resident, choice=choice)
        services.meeting_conclude(actor=village_clerk, meeting=meeting, minutes="记录")
        motion.refresh_from_db()
        outcome = selectors.motion_outcome(motion=motion)
        # Then it is valid through households, and 2 of 3 present is more than half
        assert motion.status == Motion.Status.CLOSED
        assert outcome.valid and outcome.passed
        assert "到会年满十八周岁村民3人，应到6人，须超过半数：未达到" in outcome.reasons[0]
        assert "到会代表户4户，全村6户，须达到三分之二：达到" in outcome.reasons[1]

    def test_closed_result_does_not_move_when_the_roster_grows(self, village, grid, village_clerk):
        adults = _residents(households_with_adults(grid, 3))
        body = villagers_assembly(village_clerk, village)
        meeting = open_meeting(village_clerk, village, body=body)
        services.attendance_set(
            actor=village_clerk, meeting=meeting, resident_ids=[a.pk for a in adults[:2]]
        )
        motion = services.motion_create(
            actor=village_clerk, village=village, meeting=meeting, title="事项"
        )
        services.motion_open(actor=village_clerk, motion=motion)
        for resident in adults[:2]:
            services.vote_cast(actor=village_clerk, motion=motion, resident=resident, choice="yes")
        services.motion_close(actor=village_clerk, motion=motion)
        households_with_adults(grid, 10)  # new families move in after the vote
        motion = Motion.objects.select_related("meeting__body").get(pk=motion.pk)
        outcome = selectors.motion_outcome(motion=motion)
        assert (motion.eligible_adults, motion.eligible_households) == (3, 3)
        assert outcome.passed
        assert [o.status for _, o in selectors.closed_motion_outcomes(motions=[motion])] == [
            "passed"
        ]

    def test_without_the_proxy_the_same_meeting_is_invalid(self, village, grid, village_clerk):
        households = households_with_adults(grid, 6)
        adults = _residents(households)
        body = villagers_assembly(village_clerk, village)
        meeting = open_meeting(village_clerk, village, body=body)
        services.attendance_set(
            actor=village_clerk, meeting=meeting, resident_ids=[a.pk for a in adults[:3]]
        )
        motion = services.motion_create(
            actor=village_clerk, village=village, meeting=meeting, title="事项"
        )
        services.motion_open(actor=village_clerk, motion=motion)
        for resident in adults[:3]:
            services.vote_cast(actor=village_clerk, motion=motion, resident=resident, choice="yes")
        assert selectors.motion_outcome(motion=motion).status == "invalid"

    def test_minors_attending_do_not_count_towards_adults(self, village, grid, village_clerk):
        households = households_with_adults(grid, 4, adults_each=1, minors_each=2)
        minors = Resident.objects.filter(household__in=households, birth_date__year=2015)
        body = villagers_assembly(village_clerk, village)
        meeting = open_meeting(village_clerk, village, body=body)
        services.attendance_set(
            actor=village_clerk, meeting=meeting, resident_ids=[m.pk for m in minors[:3]]
        )
        counts = selectors._attendance_counts(meeting)
        assert counts["adults_present"] == 0
        assert counts["present"] == 3

    def test_non_attendee_cannot_vote(self, village, grid, village_clerk):
        adults = _residents(households_with_adults(grid, 3))
        meeting = open_meeting(village_clerk, village, kind=Meeting.Kind.WUCHANG)
        services.attendance_set(actor=village_clerk, meeting=meeting, resident_ids=[adults[0].pk])
        motion = services.motion_create(
            actor=village_clerk, village=village, meeting=meeting, title="修路"
        )
        services.motion_open(actor=village_clerk, motion=motion)
        with pytest.raises(ValidationError, match="未登记到会"):
            services.vote_cast(actor=village_clerk, motion=motion, resident=adults[1], choice="yes")

    def test_voter_cannot_be_unticked(self, village, grid, village_clerk):
        adults = _residents(households_with_adults(grid, 2))
        meeting = open_meeting(village_clerk, village, kind=Meeting.Kind.WUCHANG)
        services.attendance_set(
            actor=village_clerk, meeting=meeting, resident_ids=[a.pk for a in adults]
        )
        motion = services.motion_create(
            actor=village_clerk, village=village, meeting=meeting, title="修路"
        )
        services.motion_open(actor=village_clerk, motion=motion)
        services.vote_cast(actor=village_clerk, motion=motion, resident=adults[0], choice="yes")
        with pytest.raises(ValidationError, match="已经投票"):
            services.attendance_set(
                actor=village_clerk, meeting=meeting, resident_ids=[adults[1].pk]
            )


class TestRepresentativesAssemblyVote:
    def test_non_member_attendee_may_not_vote_and_quorum_uses_members(
        self, village, grid, village_clerk
    ):
        people = _residents(households_with_adults(grid, 4))
        services.village_bodies_ensure(village=village, actor=village_clerk)
        body = standard_body(village, BodyKind.REPRESENTATIVES_ASSEMBLY)
        for member in people[:3]:
            services.membership_add(actor=village_clerk, body=body, resident=member)
        meeting = open_meeting(village_clerk, village, body=body)
        services.attendance_set(
            actor=village_clerk,
            meeting=meeting,
            resident_ids=[people[0].pk, people[1].pk, people[3].pk],
        )
        motion = services.motion_create(
            actor=village_clerk, village=village, meeting=meeting, title="道路硬化"
        )
        assert motion.electorate == Motion.Electorate.MEMBERS
        services.motion_open(actor=village_clerk, motion=motion)
        with pytest.raises(ValidationError, match="不是该机构成员"):
            services.vote_cast(actor=village_clerk, motion=motion, resident=people[3], choice="yes")
        services.vote_cast(actor=village_clerk, motion=motion, resident=people[0], choice="yes")
        services.vote_cast(actor=village_clerk, motion=motion, resident=people[1], choice="no")
        outcome = selectors.motion_outcome(motion=motion)
        # 2 of 3 members: exactly two thirds, valid; 1 of 2 present: a tie, failed
        assert outcome.valid
        assert outcome.status == "failed"


class TestOneVotePerVoter:
    def test_second_vote_by_the_same_resident_is_refused(self, village, grid, village_clerk):
        adult = _residents(households_with_adults(grid, 1))[0]
        meeting = open_meeting(village_clerk, village, kind=Meeting.Kind.YUANBA)
        services.attendance_set(actor=village_clerk, meeting=meeting, resident_ids=[adult.pk])
        motion = services.motion_create(
            actor=village_clerk, village=village, meeting=meeting, title="修路"
        )
        services.motion_open(actor=village_clerk, motion=motion)
        services.vote_cast(actor=village_clerk, motion=motion, resident=adult, choice="yes")
        with pytest.raises(ValidationError, match="只能投一次"):
            services.vote_cast(actor=village_clerk, motion=motion, resident=adult, choice="no")
        assert Vote.objects.filter(motion=motion).count() == 1

    @pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs concurrent writers: PostgreSQL"
    )
    @pytest.mark.django_db(transaction=True)
    @pytest.mark.parametrize("secret", [False, True], ids=["open", "secret"])
    def test_concurrent_submissions_record_one_vote(self, secret, township):
        from grids.models import Role
        from tests.factories import GridFactory, VillageFactory, user_with_scope

        village = VillageFactory(township=township)
        grid = GridFactory(village=village)
        clerk = user_with_scope(Role.VILLAGE_STAFF, village=village)
        household = households_with_adults(grid, 1)[0]
        motion = services.motion_create(
            actor=clerk,
            village=village,
            title="改造方案",
            secret=secret,
            opens_at=timezone.now() - dt.timedelta(hours=1),
            closes_at=timezone.now() + dt.timedelta(days=3),
        )
        services.motion_open(actor=clerk, motion=motion)
        barrier = threading.Barrier(6)
        outcomes = []

        def submit(choice):
            try:
                barrier.wait()
                services.vote_cast(actor=clerk, motion=motion, household=household, choice=choice)
                outcomes.append("ok")
            except ValidationError:
                outcomes.append("refused")
            finally:
                connection.close()

        threads = [threading.Thread(target=submit, args=(c,)) for c in ["yes", "no"] * 3]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["ok"] + ["refused"] * 5
        assert selectors.motion_tally(motion=motion).cast == 1
        table = VoteReceipt if secret else Vote
        assert table.objects.filter(motion=motion).count() == 1


class TestSecretBallot:
    def test_stored_rows_never_link_a_voter_to_a_choice(self, village, grid, village_clerk):
        households = households_with_adults(grid, 3)
        motion = services.motion_create(
            actor=village_clerk,
            village=village,
            title="改造方案",
            secret=True,
            opens_at=timezone.now() - dt.timedelta(hours=1),
            closes_at=timezone.now() + dt.timedelta(days=3),
        )
        services.motion_open(actor=village_clerk, motion=motion)
        for household, choice in zip(households, ["yes", "no", "yes"], strict=True):
            services.vote_cast(
                actor=village_clerk, motion=motion, household=household, choice=choice
            )
        assert not Vote.objects.filter(motion=motion).exists()
        receipt_columns = {f.attname for f in VoteReceipt._meta.concrete_fields}
        assert receipt_columns == {"id", "motion_id", "resident_id", "household_id"}
        assert VoteReceipt.objects.filter(motion=motion).count() == 3
        assert dict(BallotTally.objects.filter(motion=motion).values_list("choice", "count")) == {
            "yes": 2,
            "no": 1,
            "abstain": 0,
        }
        audit = AuditEntry.objects.filter(action="secret_vote_cast")
        assert audit.count() == 3
        for entry in audit:
            text = str(entry.before) + str(entry.after) + entry.object_repr
            assert "yes" not in text and "no" not in text and "赞成" not in text

    def test_household_ballot_result_uses_frozen_electorate(self, village, grid, village_clerk):
        households = households_with_adults(grid, 4)
        motion = services.motion_create(
            actor=village_clerk,
            village=village,
            title="改造方案",
            secret=True,
            opens_at=timezone.now() - dt.timedelta(hours=1),
            closes_at=timezone.now() + dt.timedelta(days=3),
        )
        services.motion_open(actor=village_clerk, motion=motion)
        for household in households[:3]:
            services.vote_cast(
                actor=village_clerk, motion=motion, household=household, choice="yes"
            )
        services.motion_close(actor=village_clerk, motion=motion)
        households_with_adults(grid, 4)  # households added later do not move a closed ballot
        motion.refresh_from_db()
        outcome = selectors.motion_outcome(motion=motion)
        assert motion.eligible_households == 4
        assert outcome.passed
        assert "已投票3户，应投4户" in outcome.reasons[0]


def test_expired_household_ballots_close_once(village, grid, village_clerk):
    households = households_with_adults(grid, 3)
    now = timezone.now()
    motion = services.motion_create(
        actor=village_clerk,
        village=village,
        title="改造方案",
        opens_at=now - dt.timedelta(days=3),
        closes_at=now + dt.timedelta(hours=1),
    )
    services.motion_open(actor=village_clerk, motion=motion)
    for household in households[:2]:
        services.vote_cast(actor=village_clerk, motion=motion, household=household, choice="yes")
    assert services.household_ballots_close_expired(now=now) == []
    later = now + dt.timedelta(hours=2)
    with pytest.raises(ValidationError, match="表决已截止"):
        services.vote_cast(
            actor=village_clerk, motion=motion, household=households[2], choice="no", now=later
        )
    assert services.household_ballots_close_expired(now=later) == [motion.pk]
    assert services.household_ballots_close_expired(now=later) == []
    motion.refresh_from_db()
    assert (motion.status, motion.eligible_households) == (Motion.Status.CLOSED, 3)
    assert selectors.motion_outcome(motion=motion).passed


def test_grid_consultation_meeting_is_limited_to_its_grid(village, grid, other_grid, village_clerk):
    body = services.body_create(
        actor=village_clerk,
        village=village,
        kind=BodyKind.GRID_CONSULTATION,
        name="第一网格协商议事团",
        grid=grid,
    )
    households_with_adults(grid, 2)
    outsider = _residents(households_with_adults(other_grid, 1))[0]
    meeting = open_meeting(village_clerk, village, body=body)
    assert meeting.grid == grid
    with pytest.raises(ValidationError, match="不在本次会议的范围内"):
        services.attendance_set(actor=village_clerk, meeting=meeting, resident_ids=[outsider.pk])


def _last_household(grid, last_member_status):
    """A household whose head died; its one other member has ``last_member_status``."""
    from tests.factories import HouseholdFactory, ResidentFactory

    household = HouseholdFactory(grid=grid)
    ResidentFactory(
        household=household, birth_date=dt.date(1940, 1, 1), status=Resident.Status.DECEASED
    )
    ResidentFactory(household=household, birth_date=dt.date(1970, 1, 1), status=last_member_status)
    return household


# The household counts while anyone is 在村 or 外出; once the last one moved out or died, not.
GONE_OR_NOT = [
    (Resident.Status.MOVED, False),
    (Resident.Status.DECEASED, False),
    (Resident.Status.AWAY, True),
    (Resident.Status.PRESENT, True),
]


class TestHouseholdsWithNobodyLeft:
    @pytest.mark.parametrize(("last_status", "still_counts"), GONE_OR_NOT)
    def test_two_thirds_of_households_leaves_out_households_with_nobody_left(
        self, last_status, still_counts, village, grid, village_clerk
    ):
        # Given 3 households of 3 adults each, and a 4th whose last member is ``last_status``
        households = households_with_adults(grid, 3, adults_each=3)
        _last_household(grid, last_status)
        body = villagers_assembly(village_clerk, village)
        meeting = open_meeting(village_clerk, village, body=body)
        # When one adult of each of two households attends (2 of 9 adults: no quorum by adults)
        first_of = [Resident.objects.filter(household=h).order_by("id")[0] for h in households]
        services.attendance_set(
            actor=village_clerk, meeting=meeting, resident_ids=[r.pk for r in first_of[:2]]
        )
        motion = services.motion_create(
            actor=village_clerk, village=village, meeting=meeting, title="事项"
        )
        services.motion_open(actor=village_clerk, motion=motion)
        for resident in first_of[:2]:
            services.vote_cast(actor=village_clerk, motion=motion, resident=resident, choice="yes")
        services.meeting_conclude(actor=village_clerk, meeting=meeting, minutes="记录")
        motion.refresh_from_db()
        outcome = selectors.motion_outcome(motion=motion)
        # Then 2 of 3 households is two thirds; 2 of 4 is not
        total = 4 if still_counts else 3
        assert f"到会代表户2户，全村{total}户" in outcome.reasons[1]
        assert motion.eligible_households == total
        assert outcome.valid is not still_counts

    @pytest.mark.parametrize(("last_status", "still_counts"), GONE_OR_NOT)
    def test_household_ballot_leaves_out_households_with_nobody_left(
        self, last_status, still_counts, village, grid, village_clerk
    ):
        households = households_with_adults(grid, 3)
        last = _last_household(grid, last_status)
        motion = services.motion_create(
            actor=village_clerk,
            village=village,
            title="改造方案",
            opens_at=timezone.now() - dt.timedelta(hours=1),
            closes_at=timezone.now() + dt.timedelta(days=3),
        )
        services.motion_open(actor=village_clerk, motion=motion)
        for household in households[:2]:
            services.vote_cast(
                actor=village_clerk, motion=motion, household=household, choice="yes"
            )
        pending = set(selectors.motion_voters_pending(motion=motion))
        assert (last in pending) is still_counts
        if not still_counts:
            with pytest.raises(ValidationError, match="已无在村或外出的成员"):
                services.vote_cast(actor=village_clerk, motion=motion, household=last, choice="no")
            assert Vote.objects.filter(motion=motion).count() == 2
        services.motion_close(actor=village_clerk, motion=motion)
        motion.refresh_from_db()
        outcome = selectors.motion_outcome(motion=motion)
        # 2 of 3 households voted is more than half; 2 of 4 is not
        assert motion.eligible_households == (4 if still_counts else 3)
        assert outcome.valid is not still_counts

    def test_proxy_for_a_household_with_nobody_left_is_refused(self, village, grid, village_clerk):
        holder = _residents(households_with_adults(grid, 1))[0]
        gone = _last_household(grid, Resident.Status.MOVED)
        meeting = open_meeting(
            village_clerk, village, body=villagers_assembly(village_clerk, village)
        )
        with pytest.raises(ValidationError, match="受托代表的户不在本次会议的范围内"):
            services.attendance_set(
                actor=village_clerk,
                meeting=meeting,
                resident_ids=[holder.pk],
                proxies={holder.pk: gone.pk},
            )


class TestBallotPeriod:
    def test_vote_before_the_ballot_opens_is_refused(self, village, grid, village_clerk):
        # Given a household ballot opened in advance for tomorrow
        households = households_with_adults(grid, 2)
        opens = timezone.now() + dt.timedelta(days=1)
        motion = services.motion_create(
            actor=village_clerk,
            village=village,
            title="改造方案",
            opens_at=opens,
            closes_at=opens + dt.timedelta(days=3),
        )
        services.motion_open(actor=village_clerk, motion=motion)
        # When a vote is recorded today, it is refused with the opening time
        with pytest.raises(ValidationError, match="表决尚未开始"):
            services.vote_cast(
                actor=village_clerk, motion=motion, household=households[0], choice="yes"
            )
        assert not Vote.objects.filter(motion=motion).exists()
        # And at the opening time it is accepted
        services.vote_cast(
            actor=village_clerk, motion=motion, household=households[0], choice="yes", now=opens
        )
        assert Vote.objects.filter(motion=motion).count() == 1

    def test_secret_vote_before_the_ballot_opens_leaves_no_receipt(
        self, village, grid, village_clerk
    ):
        household = households_with_adults(grid, 1)[0]
        opens = timezone.now() + dt.timedelta(hours=2)
        motion = services.motion_create(
            actor=village_clerk,
            village=village,
            title="改造方案",
            secret=True,
            opens_at=opens,
            closes_at=opens + dt.timedelta(days=1),
        )
        services.motion_open(actor=village_clerk, motion=motion)
        with pytest.raises(ValidationError, match="表决尚未开始"):
            services.vote_cast(actor=village_clerk, motion=motion, household=household, choice="no")
        assert not VoteReceipt.objects.filter(motion=motion).exists()
        assert sum(BallotTally.objects.filter(motion=motion).values_list("count", flat=True)) == 0


@pytest.mark.parametrize("kind", [BodyKind.VILLAGERS_ASSEMBLY, BodyKind.REPRESENTATIVES_ASSEMBLY])
def test_village_assemblies_cannot_be_limited_to_one_grid(kind, village, grid, village_clerk):
    services.village_bodies_ensure(village=village, actor=village_clerk)
    with pytest.raises(ValidationError, match="面向全村召开，不能限定在一个网格"):
        services.meeting_create(
            actor=village_clerk,
            village=village,
            body=standard_body(village, kind),
            grid=grid,
            kind=Meeting.Kind.SESSION,
            title="第一网格村民会议",
            venue=Meeting.Venue.COURTYARD,
            scheduled_at=timezone.now() + dt.timedelta(days=11),
        )
    assert not Meeting.objects.exists()


class TestMembershipEnd:
    def _council_with_chair(self, village, grid, clerk):
        services.village_bodies_ensure(village=village, actor=clerk)
        body = standard_body(village, BodyKind.MORAL_COUNCIL)
        old, new = _residents(households_with_adults(grid, 2))
        chair = services.membership_add(
            actor=clerk, body=body, resident=old, role="chair", joined_on=dt.date(2020, 1, 1)
        )
        return body, chair, new

    def test_chair_is_replaced_by_ending_the_old_chair(self, village, grid, village_clerk):
        body, chair, new = self._council_with_chair(village, grid, village_clerk)
        services.membership_end(actor=village_clerk, membership=chair)
        services.membership_add(actor=village_clerk, body=body, resident=new, role="chair")
        active = Membership.objects.filter(body=body, left_on__isnull=True, role="chair")
        assert list(active.values_list("resident", flat=True)) == [new.pk]
        chair.refresh_from_db()
        assert chair.left_on == timezone.localdate()
        assert AuditEntry.objects.filter(action="membership_end").count() == 1

    @pytest.mark.parametrize(
        ("left_on", "message"),
        [
            (dt.date(2019, 12, 31), "退出日期不能早于加入日期"),
            (dt.date.today() + dt.timedelta(days=2), "退出日期不能晚于今天"),
        ],
    )
    def test_leaving_date_outside_the_term_is_refused(
        self, left_on, message, village, grid, village_clerk
    ):
        _body, chair, _new = self._council_with_chair(village, grid, village_clerk)
        with pytest.raises(ValidationError, match=message):
            services.membership_end(actor=village_clerk, membership=chair, left_on=left_on)
        chair.refresh_from_db()
        assert chair.left_on is None

    def test_member_cannot_leave_twice(self, village, grid, village_clerk):
        _body, chair, _new = self._council_with_chair(village, grid, village_clerk)
        services.membership_end(actor=village_clerk, membership=chair)
        with pytest.raises(ValidationError, match="已于.*退出"):
            services.membership_end(actor=village_clerk, membership=chair)

    def test_other_village_clerk_cannot_end_a_membership(
        self, village, other_village, grid, village_clerk
    ):
        from grids.models import Role
        from tests.factories import user_with_scope

        _body, chair, _new = self._council_with_chair(village, grid, village_clerk)
        outsider = user_with_scope(Role.VILLAGE_STAFF, village=other_village)
        with pytest.raises(PermissionDenied):
            services.membership_end(actor=outsider, membership=chair)
        chair.refresh_from_db()
        assert chair.left_on is None


class TestAgendaItemAdd:
    def test_item_added_after_creation_is_numbered_next(self, village, village_clerk):
        meeting = open_meeting(village_clerk, village)
        item = services.agenda_item_add(
            actor=village_clerk, meeting=meeting, title="  垃圾分类  ", description="说明"
        )
        assert (item.position, item.title) == (2, "垃圾分类")

    def test_item_cannot_be_added_to_a_held_meeting_or_without_title(self, village, village_clerk):
        meeting = open_meeting(village_clerk, village)
        with pytest.raises(ValidationError, match="请填写议题"):
            services.agenda_item_add(actor=village_clerk, meeting=meeting, title="  ")
        services.meeting_conclude(actor=village_clerk, meeting=meeting, minutes="记录")
        with pytest.raises(ValidationError, match="会议已结束或已取消"):
            services.agenda_item_add(actor=village_clerk, meeting=meeting, title="补充议题")
        assert meeting.agenda_items.count() == 1

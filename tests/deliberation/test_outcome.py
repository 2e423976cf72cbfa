"""Quorum and majority at the boundaries, per body kind, in exact integer arithmetic."""

import pytest

from deliberation.outcome import (
    BodyRules,
    Tally,
    configured_outcome,
    household_ballot_outcome,
    reaches,
    representatives_assembly_outcome,
    villagers_assembly_outcome,
)


def test_reaches_is_exact_at_two_thirds_where_floats_would_wobble():
    # 2/3 of 999999 is 666666 exactly; strict "more than" must refuse, "at least" accept.
    assert reaches(666666, 999999, 2, 3, strict=False)
    assert not reaches(666666, 999999, 2, 3, strict=True)
    assert not reaches(666665, 999999, 2, 3, strict=False)


def test_reaches_nothing_when_total_is_zero():
    assert not reaches(0, 0, 1, 2, strict=False)


def _assembly(adults_present, households_represented, yes=0, no=0, present=None):
    return villagers_assembly_outcome(
        adults_present=adults_present,
        adults_eligible=100,
        households_represented=households_represented,
        households_total=30,
        present=present if present is not None else adults_present,
        tally=Tally(yes=yes, no=no),
    )


class TestVillagersAssembly:
    def test_exactly_half_of_adults_and_too_few_households_is_invalid(self):
        outcome = _assembly(adults_present=50, households_represented=19, yes=50)
        assert outcome.status == "invalid"
        assert "到会年满十八周岁村民50人，应到100人" in outcome.reasons[0]
        assert "第二十二条" in outcome.reasons[-1]

    def test_one_more_than_half_of_adults_is_valid(self):
        assert _assembly(adults_present=51, households_represented=0, yes=51).valid

    def test_exactly_two_thirds_of_households_is_valid_even_with_few_adults(self):
        outcome = _assembly(adults_present=20, households_represented=20, yes=11)
        assert outcome.valid
        assert outcome.passed

    def test_one_household_short_of_two_thirds_is_invalid(self):
        assert not _assembly(adults_present=20, households_represented=19, yes=20).valid

    def test_decision_needs_more_than_half_of_those_present_not_of_votes_cast(self):
        # 60 present, 30 yes, 5 no, the rest silent: half of those present is not enough.
        outcome = _assembly(adults_present=60, households_represented=0, yes=30, no=5)
        assert outcome.status == "failed"
        assert "赞成30票，到会人员60，须超过半数" in outcome.reasons[-1]

    def test_one_more_than_half_of_those_present_passes(self):
        assert _assembly(adults_present=60, households_represented=0, yes=31).passed

    def test_tie_fails(self):
        assert _assembly(adults_present=60, households_represented=0, yes=30, no=30).status == (
            "failed"
        )


class TestRepresentativesAssembly:
    def test_exactly_two_thirds_of_members_is_valid(self):
        outcome = representatives_assembly_outcome(
            members_present=20, members_total=30, tally=Tally(yes=11, no=9)
        )
        assert outcome.valid and outcome.passed

    def test_one_short_of_two_thirds_is_invalid_and_says_why(self):
        outcome = representatives_assembly_outcome(
            members_present=19, members_total=30, tally=Tally(yes=19)
        )
        assert outcome.status == "invalid"
        assert "到会村民代表19人，应到30人，须达到三分之二：未达到" in outcome.reasons[0]
        assert "第二十六条" in outcome.reasons[-1]

    def test_exactly_half_of_those_present_fails(self):
        outcome = representatives_assembly_outcome(
            members_present=20, members_total=30, tally=Tally(yes=10, no=2)
        )
        assert outcome.status == "failed"

    def test_tie_fails(self):
        outcome = representatives_assembly_outcome(
            members_present=20, members_total=30, tally=Tally(yes=10, no=10)
        )
        assert not outcome.passed


class TestConfiguredBody:
    def test_default_quorum_refuses_exactly_half_of_members(self):
        outcome = configured_outcome(
            rules=BodyRules(), members_present=5, members_total=10, present=5, tally=Tally(yes=5)
        )
        assert outcome.status == "invalid"

    def test_default_quorum_accepts_more_than_half(self):
        outcome = configured_outcome(
            rules=BodyRules(), members_present=6, members_total=10, present=6, tally=Tally(yes=4)
        )
        assert outcome.passed

    def test_default_majority_of_votes_cast_fails_on_a_tie(self):
        outcome = configured_outcome(
            rules=BodyRules(),
            members_present=7,
            members_total=10,
            present=7,
            tally=Tally(yes=3, no=3, abstain=0),
        )
        assert outcome.status == "failed"
        assert "实际投票6" in outcome.reasons[-1]

    def test_abstentions_count_as_votes_cast(self):
        outcome = configured_outcome(
            rules=BodyRules(),
            members_present=7,
            members_total=10,
            present=7,
            tally=Tally(yes=3, no=2, abstain=1),
        )
        assert not outcome.passed

    def test_configured_two_thirds_at_least_accepts_the_boundary(self):
        rules = BodyRules(
            quorum_numerator=2,
            quorum_denominator=3,
            quorum_strict=False,
            majority_numerator=2,
            majority_denominator=3,
            majority_strict=False,
            majority_on_present=True,
        )
        at = configured_outcome(
            rules=rules, members_present=6, members_total=9, present=6, tally=Tally(yes=4)
        )
        below = configured_outcome(
            rules=rules, members_present=6, members_total=9, present=6, tally=Tally(yes=3, no=0)
        )
        assert at.passed
        assert below.valid and not below.passed

    def test_body_without_members_has_no_quorum(self):
        outcome = configured_outcome(
            rules=BodyRules(),
            members_present=0,
            members_total=0,
            present=3,
            tally=Tally(yes=2, no=1),
        )
        assert outcome.valid and outcome.passed
        assert "不设法定人数" in outcome.reasons[0]


class TestHouseholdBallot:
    @pytest.mark.parametrize(
        ("voted", "valid"), [(25, False), (26, True)], ids=["exactly-half", "one-more"]
    )
    def test_turnout_must_exceed_half_of_households(self, voted, valid):
        outcome = household_ballot_outcome(
            households_voted=voted, households_total=50, tally=Tally(yes=voted)
        )
        assert outcome.valid is valid

    def test_tie_among_households_that_voted_fails(self):
        outcome = household_ballot_outcome(
            households_voted=30, households_total=50, tally=Tally(yes=15, no=15)
        )
        assert outcome.status == "failed"

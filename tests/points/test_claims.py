"""Claims: submit, approve by someone else, caps and the same-day rule, rejections."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from grids.models import Role
from points import services
from points.models import Account, Claim, LedgerEntry
from tests.factories import HouseholdFactory, VillageFactory, user_with_scope
from tests.points.factories import award, make_rule

TODAY = dt.date.today


def _nothing_written(household):
    return not LedgerEntry.objects.filter(account__household=household).exists()


@pytest.fixture
def rep_household(representative):
    return representative.households.first()


@pytest.mark.django_db
def test_representative_claim_approved_by_clerk_writes_one_entry(
    representative, rep_household, village_clerk
):
    rule = make_rule(rep_household.village, village_clerk, name="志愿服务", points=10)
    claim = services.claim_submit(
        actor=representative.user, household=rep_household, rule=rule, occurred_on=TODAY()
    )
    entry = services.claim_approve(actor=village_clerk, claim=claim)
    claim.refresh_from_db()
    assert claim.status == "approved" and claim.decided_by == village_clerk
    assert (entry.points, entry.balance_after, entry.claim_id) == (10, 10, claim.pk)
    assert entry.approved_by == village_clerk and entry.recorded_by == representative.user


@pytest.mark.django_db
def test_submitter_cannot_approve_own_claim(household, village_clerk):
    rule = make_rule(household.village, village_clerk)
    claim = services.claim_submit(
        actor=village_clerk, household=household, rule=rule, occurred_on=TODAY()
    )
    with pytest.raises(ValidationError, match="不能审核自己提交的申报"):
        services.claim_approve(actor=village_clerk, claim=claim)
    claim.refresh_from_db()
    assert claim.status == "pending" and _nothing_written(household)


@pytest.mark.django_db
def test_database_refuses_decider_equal_to_submitter(household, village_clerk):
    rule = make_rule(household.village, village_clerk)
    claim = services.claim_submit(
        actor=village_clerk, household=household, rule=rule, occurred_on=TODAY()
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        Claim.objects.filter(pk=claim.pk).update(
            status="rejected", decided_by=village_clerk, decided_at=timezone.now(), reason="x"
        )


@pytest.mark.django_db
def test_representative_cannot_claim_for_household_outside_their_list(
    representative, household, village_clerk
):
    rule = make_rule(household.village, village_clerk)
    with pytest.raises(ValidationError, match="不能为该户申报"):
        services.claim_submit(
            actor=representative.user, household=household, rule=rule, occurred_on=TODAY()
        )
    assert not Claim.objects.exists()


@pytest.mark.django_db
def test_same_rule_same_day_cannot_be_awarded_twice(household, village_clerk, second_clerk):
    rule = make_rule(household.village, village_clerk)
    first = services.claim_submit(
        actor=village_clerk, household=household, rule=rule, occurred_on=TODAY()
    )
    second = services.claim_submit(
        actor=village_clerk, household=household, rule=rule, occurred_on=TODAY()
    )
    services.claim_approve(actor=second_clerk, claim=first)
    with pytest.raises(ValidationError, match="同一天不能重复记分"):
        services.claim_approve(actor=second_clerk, claim=second)
    second.refresh_from_db()
    assert second.status == "pending"
    assert LedgerEntry.objects.filter(account__household=household).count() == 1


@pytest.mark.django_db
def test_database_unique_key_blocks_a_same_day_duplicate(household, village_clerk):
    rule = make_rule(household.village, village_clerk)
    award([household], rule, TODAY(), by=village_clerk)
    entry = LedgerEntry.objects.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.create(
            account=entry.account,
            kind="award",
            rule=rule,
            points=20,
            balance_after=40,
            occurred_on=entry.occurred_on,
            recorded_at=entry.recorded_at,
            dedupe_key=entry.dedupe_key,
        )


@pytest.mark.django_db
def test_rule_allowing_repeats_can_be_awarded_twice_a_day(household, village_clerk):
    rule = make_rule(household.village, village_clerk, allow_same_day_repeat=True)
    for _ in range(2):
        award([household], rule, TODAY(), by=village_clerk)
    assert Account.objects.get(household=household).balance == 40


@pytest.mark.django_db
def test_over_monthly_cap_is_refused_with_message(household, village_clerk, second_clerk):
    rule = make_rule(household.village, village_clerk, max_per_month=2, allow_same_day_repeat=True)
    day = TODAY()
    for _ in range(2):
        award([household], rule, day, by=village_clerk)
    with pytest.raises(ValidationError, match="已达上限（每月2次）"):
        services.claim_submit(actor=village_clerk, household=household, rule=rule, occurred_on=day)
    assert not Claim.objects.filter(batch__isnull=True).exists()
    assert LedgerEntry.objects.count() == 2


@pytest.mark.django_db
def test_cap_counts_by_local_quarter_and_ignores_reversed_entries(household, village_clerk):
    rule = make_rule(household.village, village_clerk, max_per_quarter=1)
    march_31, april_1 = dt.date(2025, 3, 31), dt.date(2025, 4, 1)
    award([household], rule, march_31, by=village_clerk)
    # Next quarter: allowed.
    award([household], rule, april_1, by=village_clerk)
    with pytest.raises(ValidationError, match="每季1次"):
        award([household], rule, dt.date(2025, 6, 30), by=village_clerk)
    services.entry_reverse(
        actor=village_clerk, entry=LedgerEntry.objects.get(occurred_on=april_1), reason="记错"
    )
    award([household], rule, dt.date(2025, 6, 30), by=village_clerk)
    assert Account.objects.get(household=household).balance == 40


@pytest.mark.parametrize(
    ("rule_kwargs", "message"),
    [
        ({"active_from": dt.date(2030, 1, 1)}, "不在有效期内"),
        ({"active_from": dt.date(2020, 1, 1), "active_to": dt.date(2021, 12, 31)}, "不在有效期内"),
    ],
)
@pytest.mark.django_db
def test_inactive_or_expired_rule_is_refused(household, village_clerk, rule_kwargs, message):
    rule = make_rule(household.village, village_clerk, **rule_kwargs)
    with pytest.raises(ValidationError, match=message):
        services.claim_submit(
            actor=village_clerk, household=household, rule=rule, occurred_on=TODAY()
        )
    assert not Claim.objects.exists()


@pytest.mark.django_db
def test_rule_that_expired_while_claim_pending_cannot_be_approved(
    household, village_clerk, second_clerk
):
    rule = make_rule(household.village, village_clerk)
    claim = services.claim_submit(
        actor=village_clerk, household=household, rule=rule, occurred_on=TODAY()
    )
    rule.active_to = TODAY() - dt.timedelta(days=1)
    rule.save()
    with pytest.raises(ValidationError, match="不在有效期内"):
        services.claim_approve(actor=second_clerk, claim=claim)
    assert _nothing_written(household)


@pytest.mark.django_db
def test_needs_review_rule_requires_a_held_meeting_of_the_village(
    household, village_clerk, second_clerk
):
    from deliberation.models import Meeting

    rule = make_rule(
        household.village, village_clerk, name="创业带动", points=100, needs_review=True
    )
    claim = services.claim_submit(
        actor=village_clerk, household=household, rule=rule, occurred_on=TODAY()
    )
    with pytest.raises(ValidationError, match="需经会议审议"):
        services.claim_approve(actor=second_clerk, claim=claim)
    now = timezone.now()
    meeting = Meeting.objects.create(
        village=household.village,
        kind="session",
        title="村民代表会议",
        venue="courtyard",
        scheduled_at=now,
        status="held",
        notice_published_at=now,
        held_at=now,
    )
    entry = services.claim_approve(actor=second_clerk, claim=claim, meeting=meeting)
    claim.refresh_from_db()
    assert entry.points == 100 and claim.meeting == meeting


@pytest.mark.django_db
def test_reject_needs_a_reason_and_writes_no_entry(household, village_clerk, second_clerk):
    rule = make_rule(household.village, village_clerk)
    claim = services.claim_submit(
        actor=village_clerk, household=household, rule=rule, occurred_on=TODAY()
    )
    with pytest.raises(ValidationError, match="请填写理由"):
        services.claim_reject(actor=second_clerk, claim=claim, reason="  ")
    services.claim_reject(actor=second_clerk, claim=claim, reason="照片看不出是本户")
    claim.refresh_from_db()
    assert claim.status == "rejected" and _nothing_written(household)
    with pytest.raises(ValidationError, match="已经处理过"):
        services.claim_approve(actor=second_clerk, claim=claim)


@pytest.mark.django_db
def test_clerk_of_another_village_cannot_approve(household, village_clerk, township):
    other = VillageFactory(township=township)
    outsider = user_with_scope(Role.VILLAGE_STAFF, village=other)
    rule = make_rule(household.village, village_clerk)
    claim = services.claim_submit(
        actor=village_clerk, household=household, rule=rule, occurred_on=TODAY()
    )
    with pytest.raises(ValidationError, match="没有管理该村积分的权限"):
        services.claim_approve(actor=outsider, claim=claim)
    assert _nothing_written(household)


@pytest.mark.django_db
def test_bulk_award_is_all_or_nothing(grid, village_clerk):
    households = [HouseholdFactory(grid=grid) for _ in range(30)]
    rule = make_rule(grid.village, village_clerk, name="清洁家园日", points=5, max_per_month=1)
    award(households[:1], rule, TODAY(), by=village_clerk)
    with pytest.raises(ValidationError, match=households[0].number):
        award(households, rule, TODAY() - dt.timedelta(days=0), by=village_clerk)
    assert LedgerEntry.objects.count() == 1
    entries = award(households[1:], rule, TODAY(), by=village_clerk)
    assert len(entries) == 29
    assert services.ledger_consistency_check() == []

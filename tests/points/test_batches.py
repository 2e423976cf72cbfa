"""批量申报: one rule for many households in one form, approved as a whole by someone else."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from grids.models import Role
from points import services
from points.models import Account, Claim, ClaimBatch, LedgerEntry
from tests.factories import GridFactory, HouseholdFactory, user_with_scope
from tests.points.factories import make_rule

pytestmark = pytest.mark.django_db
TODAY = dt.date.today


@pytest.fixture
def clean_up_day(grid, village_clerk):
    """30 households and the 环境整治日 rule (+5)."""
    households = [HouseholdFactory(grid=grid) for _ in range(30)]
    rule = make_rule(grid.village, village_clerk, name="环境整治日", points=5)
    return rule, households


def test_bulk_award_form_writes_nothing_until_another_clerk_approves_the_batch(
    login, grid, village_clerk, second_clerk, clean_up_day
):
    rule, households = clean_up_day
    clerk = login(village_clerk)

    response = clerk.post(
        reverse("points:bulk_award"),
        {
            "village": grid.village_id,
            "rule": rule.pk,
            "occurred_on": TODAY().isoformat(),
            "households": [h.pk for h in households],
            "note": "清理河道",
        },
    )

    assert response.status_code == 302
    batch = ClaimBatch.objects.get()
    assert (batch.size, batch.status, batch.submitted_by) == (30, "pending", village_clerk)
    assert not LedgerEntry.objects.exists()
    # The recorder cannot approve his own batch from the page.
    own = clerk.post(reverse("points:batch_decide", args=[batch.pk]), {"action": "approve"})
    assert own.status_code == 400
    assert "不能审核自己提交的申报" in own.content.decode()
    assert not LedgerEntry.objects.exists()

    other = login(second_clerk)
    queue = other.get(reverse("points:claim_queue")).content.decode()
    assert reverse("points:batch_decide", args=[batch.pk]) in queue
    assert other.post(
        reverse("points:batch_decide", args=[batch.pk]), {"action": "approve"}
    ).status_code == (302)

    entries = LedgerEntry.objects.filter(rule=rule)
    assert entries.count() == 30
    assert set(entries.values_list("recorded_by", "approved_by")) == {
        (village_clerk.pk, second_clerk.pk)
    }
    assert set(Claim.objects.values_list("status", flat=True)) == {"approved"}
    assert services.ledger_consistency_check() == []


def test_submitter_cannot_approve_or_reject_own_batch(village_clerk, clean_up_day):
    rule, households = clean_up_day
    batch = services.claim_batch_submit(
        actor=village_clerk, rule=rule, households=households, occurred_on=TODAY()
    )
    with pytest.raises(ValidationError, match="不能审核自己提交的申报"):
        services.claim_batch_approve(actor=village_clerk, batch=batch)
    with pytest.raises(ValidationError, match="不能审核自己提交的申报"):
        services.claim_batch_reject(actor=village_clerk, batch=batch, reason="自己驳回")
    batch.refresh_from_db()
    assert batch.status == "pending" and not LedgerEntry.objects.exists()


def test_database_refuses_a_batch_decided_by_its_submitter(village_clerk, clean_up_day):
    rule, households = clean_up_day
    batch = services.claim_batch_submit(
        actor=village_clerk, rule=rule, households=households[:2], occurred_on=TODAY()
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        ClaimBatch.objects.filter(pk=batch.pk).update(
            status="approved", decided_by=village_clerk, decided_at=timezone.now()
        )


def test_claims_of_a_batch_are_decided_only_with_the_batch(
    village_clerk, second_clerk, clean_up_day
):
    rule, households = clean_up_day
    batch = services.claim_batch_submit(
        actor=village_clerk, rule=rule, households=households[:2], occurred_on=TODAY()
    )
    claim = batch.claims.first()
    with pytest.raises(ValidationError, match="整批审核"):
        services.claim_approve(actor=second_clerk, claim=claim)
    with pytest.raises(ValidationError, match="整批审核"):
        services.claim_reject(actor=second_clerk, claim=claim, reason="不对")
    assert not LedgerEntry.objects.exists()


def test_batch_is_all_or_nothing_when_a_household_reached_the_cap_meanwhile(
    village_clerk, second_clerk, grid
):
    households = [HouseholdFactory(grid=grid) for _ in range(5)]
    rule = make_rule(grid.village, village_clerk, max_per_month=1, allow_same_day_repeat=True)
    batch = services.claim_batch_submit(
        actor=village_clerk, rule=rule, households=households, occurred_on=TODAY()
    )
    single = services.claim_submit(
        actor=village_clerk, household=households[2], rule=rule, occurred_on=TODAY()
    )
    services.claim_approve(actor=second_clerk, claim=single)

    with pytest.raises(ValidationError, match=f"户{households[2].number}.*已达上限"):
        services.claim_batch_approve(actor=second_clerk, batch=batch)

    batch.refresh_from_db()
    assert batch.status == "pending"
    assert LedgerEntry.objects.count() == 1
    assert set(batch.claims.values_list("status", flat=True)) == {"pending"}


def test_batch_rejected_with_reason_writes_no_entry(village_clerk, second_clerk, clean_up_day):
    rule, households = clean_up_day
    batch = services.claim_batch_submit(
        actor=village_clerk, rule=rule, households=households, occurred_on=TODAY()
    )
    with pytest.raises(ValidationError, match="请填写理由"):
        services.claim_batch_reject(actor=second_clerk, batch=batch, reason=" ")
    services.claim_batch_reject(actor=second_clerk, batch=batch, reason="名单有误，重新提交")
    batch.refresh_from_db()
    assert (batch.status, batch.decided_by) == ("rejected", second_clerk)
    assert set(batch.claims.values_list("status", "reason")) == {("rejected", "名单有误，重新提交")}
    assert not LedgerEntry.objects.exists()
    with pytest.raises(ValidationError, match="已经处理过"):
        services.claim_batch_approve(actor=second_clerk, batch=batch)


def test_batch_submit_refuses_review_rules_resident_rules_and_other_villages(
    village_clerk, grid, other_village
):
    household = HouseholdFactory(grid=grid)
    review = make_rule(grid.village, village_clerk, needs_review=True)
    per_resident = make_rule(grid.village, village_clerk, subject="resident")
    plain = make_rule(grid.village, village_clerk)
    outsider = HouseholdFactory(grid=GridFactory(village=other_village))
    for rule, households, message in [
        (review, [household], "需会议审议的事项不能批量记分"),
        (per_resident, [household], "以人计分的事项不能批量记分"),
        (plain, [household, outsider], "所选农户不全属于该村"),
        (plain, [], "请至少选择一户"),
    ]:
        with pytest.raises(ValidationError, match=message):
            services.claim_batch_submit(
                actor=village_clerk, rule=rule, households=households, occurred_on=TODAY()
            )
    assert not ClaimBatch.objects.exists() and not Claim.objects.exists()


def test_clerk_of_another_village_cannot_see_or_approve_the_batch(
    login, village_clerk, other_village, clean_up_day
):
    rule, households = clean_up_day
    batch = services.claim_batch_submit(
        actor=village_clerk, rule=rule, households=households, occurred_on=TODAY()
    )
    outsider = user_with_scope(Role.VILLAGE_STAFF, village=other_village, is_staff=True)
    client = login(outsider)
    assert client.get(reverse("points:batch_decide", args=[batch.pk])).status_code == 404
    assert (
        client.post(
            reverse("points:batch_decide", args=[batch.pk]), {"action": "approve"}
        ).status_code
        == 404
    )
    with pytest.raises(ValidationError, match="没有管理该村积分的权限"):
        services.claim_batch_approve(actor=outsider, batch=batch)
    assert not LedgerEntry.objects.exists()


def test_batch_approval_writes_entries_in_bulk_not_row_by_row(
    village_clerk, second_clerk, grid, django_assert_max_num_queries
):
    """The same number of statements for 5 households as for 60 (the benchmark's 2,000)."""
    rule = make_rule(grid.village, village_clerk, allow_same_day_repeat=True)

    def approve(n):
        households = [HouseholdFactory(grid=grid) for _ in range(n)]
        batch = services.claim_batch_submit(
            actor=village_clerk, rule=rule, households=households, occurred_on=TODAY()
        )
        with django_assert_max_num_queries(22) as captured:
            services.claim_batch_approve(actor=second_clerk, batch=batch)
        return len(captured.captured_queries)

    approve(1)  # the approver's scope is read once, then cached on the user
    assert approve(5) == approve(60)
    assert Account.objects.filter(balance=20).count() == 66

"""Many counters and approvers at once: no overdraft, no negative stock, caps hold.

Runs on PostgreSQL (CI's database), where rows are really locked by concurrent connections.
SQLite serialises whole transactions, so the same race cannot even be staged there.
"""

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count

from points import services
from points.models import Account, Claim, ClaimBatch, LedgerEntry, Product, Redemption
from tests.factories import HouseholdFactory
from tests.points.factories import fund, make_rule, make_shop_with_products, new_key

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks under concurrency need PostgreSQL"
    ),
]


def _run_all_at_once(jobs):
    """Start every job in its own thread (own DB connection) at the same instant."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[tuple[str, str]] = [("", "")] * len(jobs)

    def worker(index, label, job):
        try:
            barrier.wait(timeout=30)
            job()
            outcomes[index] = (label, "ok")
        except ValidationError as exc:
            outcomes[index] = (label, "refused: " + " ".join(exc.messages))
        except Exception as exc:  # noqa: BLE001 - a deadlock or crash must show in the assert
            outcomes[index] = (label, f"error: {exc!r}")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(i, label, job)) for i, (label, job) in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_concurrent_redemptions_and_approvals_keep_every_invariant(
    grid, village_clerk, second_clerk
):
    # Given: rice (30 points, 4 in stock); a household with 100 points and one with 1,000;
    # a third household with 10 pending claims of a rule capped at 3 a month.
    shop, (rice,) = make_shop_with_products(grid.village, village_clerk, (("大米", 30, 4),))
    poor, rich, busy = (HouseholdFactory(grid=grid) for _ in range(3))
    fund(poor, village_clerk, 100)
    fund(rich, village_clerk, 1000)
    rule = make_rule(
        grid.village,
        village_clerk,
        name="志愿服务",
        points=10,
        max_per_month=3,
        allow_same_day_repeat=True,
    )
    claims = [
        services.claim_submit(
            actor=village_clerk, household=busy, rule=rule, occurred_on=dt.date.today()
        )
        for _ in range(10)
    ]

    def redeem(household):
        return lambda: services.household_redeem(
            actor=village_clerk,
            household=household,
            shop=shop,
            quantities={rice.pk: 1},
            request_key=new_key(),
        )

    def approve(claim):
        return lambda: services.claim_approve(actor=second_clerk, claim=claim)

    jobs = (
        [("poor", redeem(poor)) for _ in range(10)]
        + [("rich", redeem(rich)) for _ in range(10)]
        + [("claim", approve(claim)) for claim in claims]
        # Two more approvers press "approve" on the first claim at the same time.
        + [("claim", approve(claims[0])) for _ in range(2)]
    )

    # When: all 32 run at the same moment.
    outcomes = _run_all_at_once(jobs)

    # Then: nothing crashed (no deadlock), every refusal is a clear message.
    assert not [o for o in outcomes if o[1].startswith("error")], outcomes
    ok = {
        label: sum(1 for o in outcomes if o == (label, "ok")) for label in ("poor", "rich", "claim")
    }
    rice.refresh_from_db()
    balances = dict(Account.objects.values_list("household_id", "balance"))
    # No overdraft: the poor household could afford at most 3 bags.
    assert ok["poor"] <= 3
    assert balances[poor.pk] == 100 - 30 * ok["poor"] >= 0
    assert balances[rich.pk] == 1000 - 30 * ok["rich"]
    # No negative stock, and the 4 bags were sold exactly once each.
    assert ok["poor"] + ok["rich"] == 4
    assert rice.stock == 0
    assert Redemption.objects.count() == 4
    # Caps hold: exactly 3 approvals, the other 7 claims still pending.
    assert ok["claim"] == 3
    assert Claim.objects.filter(household=busy, status="approved").count() == 3
    assert balances[busy.pk] == 30
    refused = [o[1] for o in outcomes if o[0] == "claim" and o[1] != "ok"]
    assert all("已达上限" in m or "已经处理过" in m for m in refused), refused
    # The cache equals the sum of entries everywhere.
    assert services.ledger_consistency_check() == []
    assert Product.objects.filter(stock__lt=0).count() == 0
    assert LedgerEntry.objects.filter(balance_after__lt=0).count() == 0


def test_same_counter_form_confirmed_from_ten_connections_spends_once(grid, village_clerk):
    shop, (rice,) = make_shop_with_products(grid.village, village_clerk, (("大米", 30, 20),))
    household = HouseholdFactory(grid=grid)
    fund(household, village_clerk, 100)
    key = new_key()

    def confirm():
        services.household_redeem(
            actor=village_clerk,
            household=household,
            shop=shop,
            quantities={rice.pk: 2},
            request_key=key,
        )

    outcomes = _run_all_at_once([("confirm", confirm) for _ in range(10)])

    assert all(o == ("confirm", "ok") for o in outcomes), outcomes
    assert Redemption.objects.count() == 1
    assert Account.objects.get(household=household).balance == 40
    rice.refresh_from_db()
    assert rice.stock == 18
    assert services.ledger_consistency_check() == []


def test_batches_and_single_claims_approved_at_once_keep_the_cap(grid, village_clerk, second_clerk):
    # Given: a rule capped at 2 a month; 4 batches of the same 10 households and, for the
    # first household, 6 single claims, all pending.
    households = [HouseholdFactory(grid=grid) for _ in range(10)]
    rule = make_rule(grid.village, village_clerk, max_per_month=2, allow_same_day_repeat=True)
    today = dt.date.today()
    batches = [
        services.claim_batch_submit(
            actor=village_clerk, rule=rule, households=households, occurred_on=today
        )
        for _ in range(4)
    ]
    singles = [
        services.claim_submit(
            actor=village_clerk, household=households[0], rule=rule, occurred_on=today
        )
        for _ in range(6)
    ]
    jobs = (
        [
            ("batch", lambda b=b: services.claim_batch_approve(actor=second_clerk, batch=b))
            for b in batches
        ]
        # Two approvers press "approve" on the first batch at the same time.
        + [("batch", lambda: services.claim_batch_approve(actor=second_clerk, batch=batches[0]))]
        + [
            ("single", lambda c=c: services.claim_approve(actor=second_clerk, claim=c))
            for c in singles
        ]
    )

    # When: all 11 run at the same moment.
    outcomes = _run_all_at_once(jobs)

    # Then: no crash; the first household has at most 2 entries, every batch was all or nothing.
    assert not [o for o in outcomes if o[1].startswith("error")], outcomes
    per_household = dict(
        LedgerEntry.objects.filter(rule=rule)
        .values_list("account__household_id")
        .annotate(n=Count("pk"))
    )
    assert per_household.get(households[0].pk, 0) <= 2
    assert all(n <= 2 for n in per_household.values())
    approved = [b for b in batches if ClaimBatch.objects.get(pk=b.pk).status == "approved"]
    pending = [b for b in batches if ClaimBatch.objects.get(pk=b.pk).status == "pending"]
    assert len(approved) + len(pending) == 4
    for batch in approved:
        assert LedgerEntry.objects.filter(claim__batch=batch).count() == 10
    for batch in pending:
        assert not LedgerEntry.objects.filter(claim__batch=batch).exists()
    assert ok_count(outcomes, "batch") == len(approved)
    assert services.ledger_consistency_check() == []


def ok_count(outcomes, label):
    return sum(1 for o in outcomes if o == (label, "ok"))

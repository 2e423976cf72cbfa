"""Hostile input through the points decision, honour, report and public look-up forms: a Chinese
error or a clean 4xx, never a 500; a decision writes its ledger entries whole, or nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from points import forms
from points.models import Honour
from tests.security.form_coverage import covers
from tests.security.hostile import (
    FAST,
    NASTY,
    WEIRD,
    Effect,
    get_example,
    hunt,
    maybe,
    post_example,
    without_nul,
)

pytestmark = pytest.mark.django_db

AUDIT = "grids.AuditEntry"
QUERY = st.one_of(NASTY, st.sampled_from(WEIRD))


@pytest.fixture
def o(world):
    return world.obj


def approval(households: int) -> Effect:
    """An approval: one ledger entry per household (accounts opened as needed), the claims
    decided, one change-log record per decision."""
    return Effect(
        grows={"points.LedgerEntry": households, "points.Account": (0, households), AUDIT: (1, 2)},
        changes=frozenset({"points.Claim", "points.ClaimBatch", "points.Account"}),
    )


@covers(forms.ApproveForm)
def test_claim_approve(o, stages, client_for):
    meetings = [o.held_meeting.pk, o.meeting.pk]  # held, and only announced
    hunt(
        client_for("clerk_x"),
        reverse("points:claim_decide", args=[stages.review_claim.pk]),
        {"action": "approve", "meeting": o.held_meeting.pk},
        st.fixed_dictionaries(
            {
                "action": st.just("approve"),
                "meeting": st.one_of(st.sampled_from(meetings), NASTY),
            }
        ),
        effect=approval(1),
    )


@covers(forms.RejectForm)
@pytest.mark.parametrize("what", ["claim", "batch"])
def test_reject(what, o, client_for):
    url = (
        reverse("points:claim_decide", args=[o.claim.pk])
        if what == "claim"
        else reverse("points:batch_decide", args=[o.batch.pk])
    )
    hunt(
        client_for("clerk_x"),
        url,
        {"action": "reject", "reason": "不属实"},
        st.fixed_dictionaries({"action": st.just("reject"), "reason": maybe("不属实")}),
        effect=Effect(grows={AUDIT: 1}, changes=frozenset({"points.Claim", "points.ClaimBatch"})),
        watch=["points.Claim"],
    )


def test_batch_approve(o, client_for):
    households = o.rep_a.households.count()
    hunt(
        client_for("clerk_x"),
        reverse("points:batch_decide", args=[o.batch.pk]),
        {"action": "approve"},
        st.fixed_dictionaries({"action": st.just("approve"), "reason": NASTY}),
        effect=approval(households),
    )


def test_batch_recorder_cannot_approve_it(o, client_for):
    """Two people: the clerk who recorded the 批量记分 is refused, in Chinese, nothing written."""
    from django.test import Client

    from tests.security.hostile import post_example

    client = Client()
    client.force_login(o.clerk_x2)
    response = post_example(
        client, reverse("points:batch_decide", args=[o.batch.pk]), {"action": "approve"}
    )
    assert response.status_code == 400
    assert "不能审核自己提交的申报" in response.content.decode()


@pytest.mark.parametrize("action", ["", "approve ", "delete"])
def test_decision_without_approve_or_reject_says_what_to_choose(action, o, client_for):
    from tests.security.hostile import post_example

    for url in (
        reverse("points:claim_decide", args=[o.claim.pk]),
        reverse("points:batch_decide", args=[o.batch.pk]),
    ):
        response = post_example(client_for("clerk_x"), url, {"action": action, "reason": "x"})
        assert response.status_code == 400
        assert "请选择" in response.content.decode()


@covers(forms.HonourForm)
def test_honour_award(o, client_for):
    hunt(
        client_for("clerk_x"),
        reverse("points:honour_list"),
        {
            "household": o.household.pk,
            "title": "最美庭院",
            "year": timezone.localdate().year,
            "meeting": o.held_meeting.pk,
        },
        st.fixed_dictionaries(
            {
                "household": st.one_of(maybe(o.household.pk), st.just(o.household_y.pk)),
                "title": st.one_of(st.sampled_from(Honour.TITLES), NASTY),
                "year": st.one_of(
                    st.sampled_from(["2026", "1999", "2101", "0", "9999", "²⁰²⁶"]), NASTY
                ),
                "meeting": st.one_of(st.sampled_from([o.held_meeting.pk, o.meeting.pk]), NASTY),
                "note": NASTY,
            }
        ),
        effect=Effect(grows={"points.Honour": 1, AUDIT: 1}),
    )


def test_redemption_cancel(o, client_for):
    hunt(
        client_for("clerk_x"),
        reverse("points:redemption_receipt", args=[o.redemption.pk]),
        {"reason": "拿错了"},
        st.fixed_dictionaries({"reason": without_nul(NASTY)}),
        effect=Effect(
            grows={"points.LedgerEntry": 1, "points.StockMovement": (1, 5), AUDIT: (1, 2)},
            changes=frozenset({"points.Redemption", "points.Account", "points.Product"}),
        ),
    )


# --- query strings ------------------------------------------------------------------------------


@covers(forms.HonourFilterForm)
def test_honour_filters(o, client_for):
    client = client_for("clerk_x")

    @FAST
    @given(
        st.fixed_dictionaries(
            {
                "year": st.one_of(st.just("2026"), QUERY),
                "threshold": st.one_of(st.just("100"), QUERY),
                "village": st.one_of(maybe(o.village_x.pk), QUERY),
                "household": QUERY,
            }
        )
    )
    def prop(params):
        get_example(client, reverse("points:honour_list"), params)

    prop()


@covers(forms.ReportPeriodForm)
def test_shop_report_period(o, client_for):
    client = client_for("clerk_x")
    today = timezone.localdate().isoformat()

    @FAST
    @given(
        st.fixed_dictionaries(
            {
                "start": st.one_of(st.sampled_from(["2026-01-01", "2100-12-31"]), QUERY),
                "end": st.one_of(st.just(today), QUERY),
            }
        )
    )
    def prop(params):
        get_example(client, reverse("points:shop_report", args=[o.shop.pk]), params)

    prop()


@pytest.mark.parametrize("code", ["/", "abcd/efgh"])
def test_public_lookup_with_a_slash_is_not_an_error(code, client_for):
    get_example(client_for("anonymous"), reverse("points:public_lookup"), {"code": code})


CODES = st.one_of(st.just("x"), QUERY)


@covers(forms.PublicCodeForm)
def test_public_lookup(o, client_for):
    client = client_for("anonymous")

    @FAST
    @given(
        st.fixed_dictionaries({"code": st.one_of(st.just(o.household.public_code.lower()), CODES)})
    )
    def prop(params):
        response = get_example(client, reverse("points:public_lookup"), params)
        if response.status_code == 302:
            # Only to a passbook page, and only the code typed (upper-cased) goes into the URL.
            assert response["Location"].startswith("/p/passbook/")

    prop()


# --- red/black list actions (reasons and decisions posted without a form class) -----------------


def test_list_entry_withdrawn(o, client_for):
    hunt(
        client_for("clerk_x"),
        reverse("points:list_entry_withdraw", args=[o.list_entry.pk]),
        {"reason": "登记错误"},
        st.fixed_dictionaries({"reason": without_nul(maybe("登记错误"), max_length=300)}),
        # A correction is a new revision of the publication, never an edit.
        effect=Effect(
            grows={"points.ListPublication": 1, "points.ListEntry": (0, 200), AUDIT: (1, 3)},
            changes=frozenset({"points.ListPublication", "points.ListEntry"}),
        ),
    )


def test_list_objection_recorded(o, client_for):
    hunt(
        client_for("clerk_x"),
        reverse("points:list_objection_record", args=[o.list_entry.pk]),
        {"text": "名次有误"},
        st.fixed_dictionaries({"text": without_nul(maybe("名次有误"), max_length=300)}),
        effect=Effect(grows={"points.Objection": 1, AUDIT: (0, 1)}),
    )


def test_list_objection_decided(o, client_for):
    hunt(
        client_for("clerk_x"),
        reverse("points:list_objection_decide", args=[o.objection.pk]),
        {"upheld": "0", "decision": "核实无误"},
        st.fixed_dictionaries(
            {
                "upheld": st.one_of(st.sampled_from(["0", "1"]), NASTY),
                "decision": without_nul(maybe("核实无误"), max_length=300),
            }
        ),
        effect=Effect(
            grows={"points.ListPublication": (0, 1), "points.ListEntry": (0, 200), AUDIT: (1, 3)},
            changes=frozenset({"points.Objection", "points.ListPublication", "points.ListEntry"}),
        ),
        watch=["points.Objection"],
    )


# Reasons and decisions read straight from request.POST skip the forms' checks: PostgreSQL then
# refuses a NUL byte (ValueError) or a value longer than the column (DataError) — a 500; SQLite
# stores both, so these fail on PostgreSQL only.
LONG = "理" * 301
RAW_TEXT_POSTS = {
    "withdraw-nul": ("points:list_entry_withdraw", "list_entry", {"reason": "错\x00误"}),
    "withdraw-long": ("points:list_entry_withdraw", "list_entry", {"reason": LONG}),
    "objection-nul": ("points:list_objection_record", "list_entry", {"text": "有\x00误"}),
    "objection-long": ("points:list_objection_record", "list_entry", {"text": LONG}),
    "decide-nul": (
        "points:list_objection_decide",
        "objection",
        {"upheld": "1", "decision": "属\x00实"},
    ),
    "decide-long": ("points:list_objection_decide", "objection", {"upheld": "1", "decision": LONG}),
    "cancel-nul": ("points:redemption_receipt", "redemption", {"reason": "拿\x00错"}),
}


@pytest.mark.parametrize("case", sorted(RAW_TEXT_POSTS))
def test_nul_or_overlong_reason_is_refused_not_an_error(case, o, client_for):
    name, attr, data = RAW_TEXT_POSTS[case]
    post_example(
        client_for("clerk_x"),
        reverse(name, args=[getattr(o, attr).pk]),
        data,
        effect=Effect(
            grows={
                "points.ListPublication": (0, 1),
                "points.ListEntry": (0, 200),
                "points.Objection": (0, 1),
                "points.LedgerEntry": (0, 1),
                "points.StockMovement": (0, 5),
                AUDIT: (0, 3),
            },
            changes=frozenset(
                {
                    "points.ListPublication",
                    "points.ListEntry",
                    "points.Objection",
                    "points.Redemption",
                    "points.Account",
                    "points.Product",
                }
            ),
        ),
    )

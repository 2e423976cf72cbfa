"""Hostile input on the first forms hardened: visits, requests, claims, bulk awards, the
counter, meetings, attendance, votes, rule drafts and public comments — plus what the
properties found, pinned. A Chinese error or a clean 4xx, never a 500; a redirect writes exactly
what the successful action writes, or nothing (see ``tests/security/hostile.py``).

The other forms have their properties in ``test_forms_*.py`` and the imports in
``test_import_properties.py``; ``test_form_coverage.py`` checks that no form is left out.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from deliberation import forms as deliberation_forms
from governance import forms as governance_forms
from grids.models import Visit
from grids.roster_import import ROSTER_COLUMNS, ImportRejected, read_table
from points import forms as points_forms
from tests.security.form_coverage import covers
from tests.security.hostile import (
    FAST,
    NASTY,
    Effect,
    hunt,
    maybe,
    post_example,
    table_state,
)

AUDIT = "grids.AuditEntry"


@pytest.fixture
def o(world):
    return world.obj


@pytest.fixture
def today():
    return timezone.localdate().isoformat()


@covers(governance_forms.VisitForm)
def test_visit_form(o, client_for):
    hunt(
        client_for("rep_a"),
        reverse("rep:visit_new"),
        {"household": o.household.pk, "method": "in_person", "note": "走访"},
        st.fixed_dictionaries(
            {
                "household": st.one_of(maybe(o.household.pk), st.just(o.household_y.pk)),
                "method": maybe("in_person"),
                "note": maybe("走访"),
                "latitude": maybe("28.1"),
                "longitude": maybe("112.9"),
            }
        ),
        effect=Effect(grows={"grids.Visit": 1, AUDIT: 1}),
    )


@covers(governance_forms.RequestReportForm)
def test_request_form(o, client_for):
    hunt(
        client_for("rep_a"),
        reverse("rep:request_new"),
        {
            "household": o.household.pk,
            "kind": "request",
            "title": "路灯不亮",
            "proposed_level": "grid",
        },
        st.fixed_dictionaries(
            {
                "household": maybe(o.household.pk),
                "kind": st.one_of(st.sampled_from(["request", "dispute", "consultation"]), NASTY),
                "title": maybe("路灯不亮"),
                "description": NASTY,
                "proposed_level": maybe("grid"),
                "dispute_parties": NASTY,
                "mediation_agreement": NASTY,
            }
        ),
        effect=Effect(grows={"governance.Request": 1, "governance.RequestEvent": 1, AUDIT: 1}),
    )


STAFF_ACTION_VALID = {
    "triage": {"level": "village", "note": "村里办"},
    "return": {"note": "不属实"},
    "close": {"note": "已撤回"},
    "duplicate": {"original": None, "note": "重复"},
    "supervise": {"note": "请尽快办理"},
}


@covers(governance_forms.TriageForm, governance_forms.DuplicateForm, governance_forms.NoteForm)
@pytest.mark.parametrize("action", sorted(STAFF_ACTION_VALID))
def test_staff_request_actions(action, o, client_for):
    valid = dict(STAFF_ACTION_VALID[action])
    if action == "duplicate":
        valid["original"] = o.request.pk
    grows = {"governance.RequestEvent": 1, AUDIT: (0, 1)}
    if action == "supervise":
        grows["governance.Supervision"] = 1
    hunt(
        client_for("township"),
        reverse("staff:request_action", args=[o.request_grid.pk, action]),
        # Township staff 督办 only what is overdue, 退回 only what reached the township, and close
        # only what has been answered: on this request those are refusals.
        None if action in {"supervise", "return", "close"} else valid,
        st.fixed_dictionaries(
            {
                "level": maybe("village"),
                "department": maybe(o.department.pk),
                "note": maybe("说明"),
                "original": maybe(o.request.pk),
            }
        ),
        effect=Effect(grows=grows, changes=frozenset({"governance.Request"})),
        watch=["governance.Request"],
    )


@covers(points_forms.ClaimForm)
def test_claim_form(o, client_for, today):
    hunt(
        client_for("rep_a"),
        reverse("points:claim_new", args=[o.household.pk]),
        {"rule": o.rule.pk, "occurred_on": today, "note": "打扫"},
        st.fixed_dictionaries(
            {
                "rule": st.one_of(maybe(o.rule.pk), st.just(10**20)),
                "occurred_on": st.one_of(
                    st.sampled_from(["2000-01-01", "2100-12-31"]), maybe(today)
                ),
                "note": NASTY,
            }
        ),
        effect=Effect(grows={"points.Claim": 1, AUDIT: (0, 1)}),
    )


@covers(points_forms.BulkAwardForm)
def test_bulk_award(o, client_for, today):
    households = list(o.rep_a.households.values_list("pk", flat=True))
    hunt(
        client_for("clerk_x"),
        reverse("points:bulk_award"),
        {"rule": o.rule.pk, "occurred_on": today, "households": households[1:]},
        st.fixed_dictionaries(
            {
                "rule": maybe(o.rule.pk),
                "occurred_on": maybe(today),
                "households": st.one_of(
                    st.lists(st.sampled_from([*households, o.household_y.pk]), max_size=4),
                    NASTY,
                ),
                "note": NASTY,
            }
        ),
        # A batch waiting for a second staff member: one claim per household, no points yet.
        effect=Effect(
            grows={"points.ClaimBatch": 1, "points.Claim": (1, len(households)), AUDIT: (0, 1)}
        ),
    )


@covers(points_forms.CounterForm)
def test_counter_redemption(o, client_for):
    client = client_for("clerk_x")
    url = reverse("points:counter_household", args=[o.household.pk])
    product = o.shop.products.order_by("pk").first()
    redemption = Effect(
        grows={
            "points.Redemption": 1,
            "points.RedemptionLine": (1, 2),
            "points.LedgerEntry": 1,
            "points.StockMovement": (1, 2),
            AUDIT: (0, 1),
        },
        changes=frozenset({"points.Product", "points.Account"}),
    )
    post_example(
        client,
        url,
        {f"qty_{product.pk}": 1, "action": "confirm", "request_key": "k" * 32},
        effect=redemption,
        succeeds=True,
    )

    @FAST
    @given(
        st.fixed_dictionaries(
            {
                f"qty_{product.pk}": st.one_of(
                    st.sampled_from(["1", "99", "100", "-1", str(2**63)]), NASTY
                ),
                "action": st.sampled_from(["preview", "confirm"]),
                "request_key": maybe("k" * 32),
                "shop": maybe(o.shop.pk),
            }
        )
    )
    def prop(data):
        # A valid preview is a 200 confirmation page that writes nothing.
        post_example(client, url, data, effect=redemption, plain_ok=data["action"] == "preview")

    prop()


@covers(deliberation_forms.MeetingForm)
def test_meeting_create(o, client_for):
    hunt(
        client_for("clerk_x"),
        reverse("deliberation:meeting_create"),
        {
            "village": o.village_x.pk,
            "kind": "session",
            "title": "议事会",
            "venue": "courtyard",
            "scheduled_at": "2030-01-01T09:00",
            "notice_text": "请参加",
            "agenda": "修路\n安路灯",
        },
        st.fixed_dictionaries(
            {
                "village": maybe(o.village_x.pk),
                "kind": maybe("session"),
                "title": maybe("议事会"),
                "venue": maybe("courtyard"),
                "scheduled_at": st.one_of(
                    st.sampled_from(["0001-01-01T00:00", "9999-12-31T23:59"]),
                    maybe("2030-01-01T09:00"),
                ),
                "notice_text": maybe("请参加"),
                "agenda": NASTY,
            }
        ),
        effect=Effect(
            grows={"deliberation.Meeting": 1, "deliberation.AgendaItem": (0, 200), AUDIT: 1}
        ),
    )


def test_attendance(o, client_for):
    hunt(
        client_for("clerk_x"),
        reverse("deliberation:meeting_attendance", args=[o.meeting.pk]),
        None,  # the head is already recorded present: saving the same sheet is a no-op
        st.fixed_dictionaries(
            {
                "present": maybe([o.head.pk]),
                "shown": maybe([o.head.pk]),
                f"proxy_{o.head.pk}": st.one_of(st.just(""), NASTY),
            }
        ),
        effect=Effect(
            grows={"deliberation.Attendance": (-1, 1), AUDIT: (0, 1)},
            changes=frozenset({"deliberation.Attendance"}),
        ),
        watch=["deliberation.Attendance"],
    )


@covers(deliberation_forms.VoteForm)
def test_vote(o, client_for):
    hunt(
        client_for("clerk_x"),
        reverse("deliberation:motion_vote", args=[o.motion.pk]),
        {"voter": o.head.pk, "choice": "yes"},
        st.fixed_dictionaries(
            {
                "voter": maybe(o.head.pk),
                "choice": st.one_of(st.sampled_from(["yes", "no", "abstain"]), NASTY),
            }
        ),
        effect=Effect(
            grows={"deliberation.Vote": (0, 1), "deliberation.VoteReceipt": (0, 1), AUDIT: 1}
        ),
    )


@covers(deliberation_forms.RuleVersionForm)
def test_rule_version_create(o, client_for):
    hunt(
        client_for("clerk_x"),
        reverse("deliberation:rule_version_create"),
        {
            "village": o.village_x.pk,
            "title": "村规民约",
            "articles": "【孝老爱亲】子女应当赡养父母。",
        },
        st.fixed_dictionaries(
            {
                "village": maybe(o.village_x.pk),
                "title": maybe("村规民约"),
                "preamble": NASTY,
                "articles": maybe("【孝老爱亲】子女应当赡养父母。"),
            }
        ),
        effect=Effect(
            grows={"deliberation.RuleVersion": 1, "deliberation.Article": (1, 400), AUDIT: 1}
        ),
    )


@covers(deliberation_forms.CommentForm)
def test_public_consultation_comment(o, client_for):
    article = o.version.articles.first()
    hunt(
        client_for("anonymous"),
        reverse(
            "deliberation:public_consultation",
            kwargs={"village_code": o.village_x.code, "pk": o.version.pk},
        ),
        {"article": article.pk, "author_name": "李四", "text": "同意"},
        st.fixed_dictionaries(
            {"article": maybe(article.pk), "author_name": maybe("李四"), "text": NASTY}
        ),
        effect=Effect(grows={"deliberation.Comment": 1, AUDIT: 1}),
    )


# --- the cases hypothesis found, pinned so they stay fixed ------------------------------------


def test_bulk_award_with_ids_too_big_for_the_database_is_a_form_error(o, client_for, today):
    for bad in (str(10**20), "-1", "abc", "1.5"):
        before = table_state()
        response = client_for("clerk_x").post(
            reverse("points:bulk_award"),
            {"rule": o.rule.pk, "occurred_on": today, "households": [bad]},
        )
        assert response.status_code == 400  # the page's own answer to an invalid form
        assert "所选农户无效" in response.content.decode()
        assert table_state() == before


def test_garbled_hidden_location_is_dropped_not_an_invisible_error(o, client_for):
    response = client_for("rep_a").post(
        reverse("rep:visit_new"),
        {"household": o.household.pk, "method": "in_person", "latitude": "28.1", "longitude": " "},
    )
    assert response.status_code == 302
    visit = Visit.objects.latest("pk")
    assert visit.latitude is None and visit.longitude is None


def test_nul_characters_in_an_import_file_are_refused_in_chinese():
    out = io.StringIO()
    csv.writer(out).writerows([ROSTER_COLUMNS, ["\x00"] + [""] * (len(ROSTER_COLUMNS) - 1)])
    data = out.getvalue().encode("utf-8")
    with pytest.raises(ImportRejected) as caught:
        read_table(data=data, filename="r.csv", columns=ROSTER_COLUMNS)
    assert "空字符" in str(caught.value.issues[0])


def test_vote_for_someone_not_waiting_to_vote_says_so(o, client_for):
    client = client_for("clerk_x")
    url = reverse("deliberation:motion_vote", args=[o.motion.pk])
    assert client.post(url, {"voter": o.head.pk, "choice": "yes"}).status_code == 302
    before = table_state()
    again = client.post(url, {"voter": o.head.pk, "choice": "no"})
    assert again.status_code == 200
    assert "这一票没有记录" in again.content.decode()
    assert table_state() == before


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("42", 42),
        (" 42 ", 42),
        ("9223372036854775807", 2**63 - 1),
        ("9223372036854775808", None),  # one past the largest database id
        ("100000000000000000000", None),
        ("²", None),  # str.isdigit() says yes, int() says no
        ("٣", None),
        ("-1", None),
        ("1e3", None),
        ("", None),
        (None, None),
    ],
)
def test_ids_from_requests_are_parsed_strictly(raw, expected):
    from grids.validators import parse_id

    assert parse_id(raw) == expected

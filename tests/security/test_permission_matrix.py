"""Every URL of the project × every role: who gets the page, who is refused, and never a 500.

The URL list comes from the URL conf; ``matrix_table.TABLE`` says, for each name, how to build
its arguments from the shared data set and which roles may GET it. A URL missing from the table
fails the first test, so a new page cannot slip past the matrix.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.security.hostile import table_state
from tests.security.matrix_table import TABLE
from tests.security.urlconf import project_url_names
from tests.security.world import ROLES

LOGIN = "/accounts/login/"


def _url(name, world):
    return reverse(name, kwargs=TABLE[name].kwargs(world.obj))


def test_every_url_is_in_the_table(db):
    missing = sorted(project_url_names() - set(TABLE))
    assert not missing, f"add these URL names to tests/security/matrix_table.py: {missing}"


def test_the_table_names_only_real_urls(db):
    stale = sorted(set(TABLE) - project_url_names())
    assert not stale, f"stale entries in the permission table: {stale}"


GET_CASES = [(name, role) for name in sorted(TABLE) for role in ROLES]


@pytest.mark.parametrize(("name", "role"), GET_CASES, ids=[f"{n}-{r}" for n, r in GET_CASES])
def test_get(name, role, world, client_for):
    entry = TABLE[name]
    response = client_for(role).get(_url(name, world))
    status = response.status_code
    assert status < 500, f"{name} as {role}: {status}"
    if entry.post_only:
        if role == "anonymous" and not entry.public:
            assert status == 302 and response["Location"].startswith(LOGIN)
        else:
            assert status == 405, f"{name} answers GET: {status}"
    elif role in entry.get:
        assert status == 200, f"{name} as {role}: expected 200, got {status}"
    elif role in entry.redirect:
        assert status == 302, f"{name} as {role}: expected a redirect, got {status}"
        if role != "anonymous":
            assert not response["Location"].startswith(LOGIN)
    elif role == "anonymous":
        assert status == 302 and response["Location"].startswith(LOGIN), (
            f"{name} as anonymous: {status}"
        )
    else:
        assert status in (403, 404), f"{name} as {role}: expected 403/404, got {status}"


def _post_data(name: str, o) -> dict:
    today = timezone.localdate()
    data = {
        "rep:notice_confirm": {"household": o.household.pk},
        "staff:request_action": {"note": "已收到"},
        "staff:reports_run": {"kind": "monthly", "month": "2026-10"},
        "points:list_entry_withdraw": {"reason": "登记错误"},
        "points:list_objection_record": {"text": "名次有误"},
        "points:list_objection_decide": {"upheld": "1", "decision": "属实"},
        "points:claim_decide": {"action": "approve"},
        "points:batch_decide": {"action": "approve"},
        "points:claim_new": {"rule": o.rule.pk, "occurred_on": today.isoformat()},
        "points:bulk_award": {
            "rule": o.rule.pk,
            "households": [o.household.pk],
            "occurred_on": today.isoformat(),
        },
        "points:counter_household": {"qty_1": 1, "request_key": "k" * 32, "confirm": "1"},
        "deliberation:meeting_cancel": {"reason": "下雨"},
        "deliberation:meeting_conclude": {"minutes": "记录", "resolutions": "决议"},
        "deliberation:meeting_attendance": {"present": [o.head.pk], "shown": [o.head.pk]},
        "deliberation:motion_create": {"title": "修路", "electorate": "present"},
        "deliberation:motion_vote": {"voter": o.head.pk, "choice": "yes"},
        "deliberation:rule_version_action": {},
        "rep:visit_new": {"household": o.household.pk, "method": "in_person", "note": "走访"},
        "rep:request_new": {"household": o.household.pk, "kind": "request", "title": "路灯"},
        "points:honour_list": {
            "household": o.household.pk,
            "title": "最美庭院",
            "year": 2026,
        },
        "deliberation:body_detail": {"quorum_numerator": 1, "quorum_denominator": 2},
    }
    return data.get(name, {})


POST_CASES = [
    (name, role)
    for name in sorted(TABLE)
    if not TABLE[name].public and name not in {"logout_everywhere", "login"}
    for role in ROLES
    if role not in (TABLE[name].post_allowed if TABLE[name].post_only else TABLE[name].get)
    and role not in TABLE[name].redirect
]


@pytest.mark.parametrize(("name", "role"), POST_CASES, ids=[f"{n}-{r}" for n, r in POST_CASES])
def test_denied_post_changes_nothing(name, role, world, client_for):
    before = table_state()
    response = client_for(role).post(_url(name, world), _post_data(name, world.obj))
    status = response.status_code
    if role == "anonymous":
        assert status == 302 and response["Location"].startswith(LOGIN), status
    else:
        assert status in (403, 404, 405), f"{name} POST as {role}: {status}"
    assert table_state() == before


# --- object level: village X's ids asked for by village Y's clerk and by representative B ----

OBJECT_URLS = {
    "household": ("grids:household_detail", lambda o: {"pk": o.household.pk}),
    "passbook": ("points:passbook", lambda o: {"household_id": o.household.pk}),
    "claim form": ("points:claim_new", lambda o: {"household_id": o.household.pk}),
    "claim": ("points:claim_decide", lambda o: {"pk": o.claim.pk}),
    "redemption": ("points:redemption_receipt", lambda o: {"pk": o.redemption.pk}),
    "counter": ("points:counter_household", lambda o: {"household_id": o.household.pk}),
    "staff request": ("staff:request_detail", lambda o: {"pk": o.request.pk}),
    "rep request": ("rep:request_detail", lambda o: {"pk": o.request_grid.pk}),
    "visit": ("rep:visit_done", lambda o: {"pk": o.visit.pk}),
    "motion": ("deliberation:motion_detail", lambda o: {"pk": o.motion.pk}),
    "vote": ("deliberation:motion_vote", lambda o: {"pk": o.motion.pk}),
    "meeting": ("deliberation:meeting_detail", lambda o: {"pk": o.meeting.pk}),
    "rule version": ("deliberation:rule_version_detail", lambda o: {"pk": o.version.pk}),
    "claim batch": ("points:batch_decide", lambda o: {"pk": o.batch.pk}),
    "honour": ("points:honour_certificate", lambda o: {"pk": o.honour.pk}),
    "notice": ("staff:notice_detail", lambda o: {"pk": o.notice.pk}),
    "job": ("staff:job_detail", lambda o: {"pk": o.job.pk}),
}
OBJECT_CASES = [
    ("clerk_y", what)
    for what in OBJECT_URLS
    if what not in {"rep request", "visit"}  # the representative pages refuse staff outright
] + [("rep_b", what) for what in ("household", "passbook", "claim form", "rep request", "visit")]


@pytest.mark.parametrize(("role", "what"), OBJECT_CASES, ids=[f"{r}-{w}" for r, w in OBJECT_CASES])
def test_other_villages_and_grids_ids_are_404(role, what, world, client_for):
    name, kwargs = OBJECT_URLS[what]
    client = client_for(role)
    url = reverse(name, kwargs=kwargs(world.obj))
    assert client.get(url).status_code == 404
    before = table_state()
    assert client.post(url, _post_data(name, world.obj)).status_code == 404
    assert table_state() == before


def test_clerk_y_cannot_award_or_count_village_x_households_through_own_forms(world, client_for):
    """Forms clerk Y may open refuse X's rule and household ids, and write nothing."""
    o = world.obj
    client = client_for("clerk_y")
    before = table_state()
    award = client.post(
        reverse("points:bulk_award"),
        {
            "rule": o.rule.pk,
            "households": [o.household.pk],
            "occurred_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
        },
    )
    assert award.status_code in (200, 400, 404)
    assert table_state() == before
    for code in (o.household.public_code, o.household.number):
        page = client.get(reverse("points:counter"), {"q": code})
        assert page.status_code in (200, 404)
        found = reverse("points:counter_household", args=[o.household.pk])
        assert found not in page.content.decode() and found not in page.get("Location", "")


def test_rep_b_sees_none_of_rep_as_households_in_lists(world, client_for):
    o = world.obj
    body = client_for("rep_b").get(reverse("grids:my_households")).content.decode()
    for household in o.rep_a.households.all():
        assert household.number not in body

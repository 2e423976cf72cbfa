"""The permission table: every URL name → how to build its arguments, and who may GET it.

A URL that is missing here fails ``test_every_url_is_in_the_table``; add it with its rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

ALL_SIGNED_IN = frozenset(
    {"rep_a", "rep_b", "clerk_x", "clerk_y", "township", "handler", "superuser"}
)
STAFF_X = frozenset({"clerk_x", "township", "superuser"})  # may manage village X
STAFF = frozenset({"clerk_x", "clerk_y", "township", "superuser"})
VILLAGE_STAFF = frozenset({"clerk_x", "clerk_y", "superuser"})
EVERYONE = frozenset({"anonymous"}) | ALL_SIGNED_IN


@dataclass(frozen=True)
class Entry:
    kwargs: Callable = lambda o: {}
    get: frozenset = frozenset()  # roles that get 200
    redirect: frozenset = frozenset()  # roles that get a 302 by design (not to the login)
    public: bool = False  # anonymous is not sent to the login page
    post_only: bool = False  # GET answers 405; POST is checked by the denied-POST test
    post_allowed: frozenset = frozenset()  # roles whose POST may change data
    why: str = ""


def pk(attr):
    return lambda o: {"pk": getattr(o, attr).pk}


TABLE: dict[str, Entry] = {
    # --- accounts and site -----------------------------------------------------------------
    "home": Entry(redirect=ALL_SIGNED_IN, why="everyone signed in has a home page"),
    "healthz": Entry(get=EVERYONE, public=True, why="load balancer probe, no data"),
    "login": Entry(get=EVERYONE, public=True),
    "logout": Entry(post_only=True, public=True, post_allowed=EVERYONE),
    "logout_everywhere": Entry(post_only=True, post_allowed=ALL_SIGNED_IN),
    "password_change": Entry(get=ALL_SIGNED_IN),
    "password_change_done": Entry(get=ALL_SIGNED_IN),
    "admin:index": Entry(
        get=STAFF,
        redirect=frozenset({"anonymous", "rep_a", "rep_b", "handler"}),
        why="Django admin: is_staff users see an index of only what they are permitted; others"
        " are sent to the admin login",
    ),
    # --- grids -----------------------------------------------------------------------------
    "grids:my_households": Entry(get=frozenset({"rep_a", "rep_b"})),
    "grids:household_list": Entry(get=STAFF),
    "grids:household_detail": Entry(kwargs=pk("household"), get=STAFF_X | {"rep_a"}),
    "grids:representative_list": Entry(get=STAFF),
    "grids:representative_card": Entry(
        kwargs=pk("rep_a"),
        get=STAFF_X | {"rep_a", "handler"},
        why="the card is what the public verification page shows; township-wide roles see it",
    ),
    "grids:card_verify": Entry(
        kwargs=lambda o: {"token": o.rep_a.verify_token}, get=EVERYONE, public=True
    ),
    "grids:import_territory": Entry(get=frozenset({"township", "superuser"})),
    "grids:import_roster": Entry(get=STAFF),
    # --- requests (representative side) ------------------------------------------------------
    "rep:home": Entry(get=frozenset({"rep_a", "rep_b"})),
    "rep:visit_new": Entry(get=frozenset({"rep_a", "rep_b"})),
    "rep:visit_done": Entry(kwargs=pk("visit"), get=frozenset({"rep_a"})),
    "rep:request_list": Entry(get=frozenset({"rep_a", "rep_b"})),
    "rep:request_new": Entry(get=frozenset({"rep_a", "rep_b"})),
    "rep:request_detail": Entry(kwargs=pk("request_grid"), get=frozenset({"rep_a"})),
    "rep:request_action": Entry(
        kwargs=lambda o: {"pk": o.request_grid.pk, "action": "start"},
        post_only=True,
        post_allowed=frozenset({"rep_a"}),
    ),
    "rep:notice_list": Entry(get=frozenset({"rep_a", "rep_b"})),
    "rep:notice_confirm": Entry(
        kwargs=pk("notice"), post_only=True, post_allowed=frozenset({"rep_a", "rep_b"})
    ),
    "rep:work_item_done": Entry(
        kwargs=pk("work_item"), post_only=True, post_allowed=frozenset({"rep_a", "rep_b"})
    ),
    # --- requests (staff side) -------------------------------------------------------------
    "staff:index": Entry(redirect=STAFF | {"handler"}, why="sends each role to its queue"),
    "staff:request_list": Entry(get=STAFF),
    "staff:request_export": Entry(kwargs=lambda o: {"fmt": "csv"}, get=STAFF),
    "staff:request_detail": Entry(kwargs=pk("request"), get=STAFF_X | {"handler"}),
    "staff:request_action": Entry(
        kwargs=lambda o: {"pk": o.request.pk, "action": "acknowledge"},
        post_only=True,
        post_allowed=frozenset({"handler", "superuser"}),
    ),
    "staff:triage_queue": Entry(get=STAFF),
    "staff:department_queue": Entry(get=frozenset({"handler", "superuser"})),
    "staff:supervision_list": Entry(get=frozenset({"township", "superuser"})),
    "staff:return_visit_queue": Entry(get=STAFF),
    "staff:duplicate_list": Entry(get=STAFF),
    "staff:notice_list": Entry(get=STAFF),
    "staff:notice_detail": Entry(kwargs=pk("notice"), get=STAFF_X),
    "staff:service_day": Entry(get=STAFF),
    "staff:work_lists": Entry(get=STAFF),
    "staff:reports": Entry(get=STAFF),
    "staff:reports_run": Entry(post_only=True, post_allowed=STAFF),
    "staff:job_detail": Entry(
        kwargs=pk("job"), get=STAFF_X, why="any staff whose area the run covers may watch it"
    ),
    "staff:monthly_township": Entry(
        kwargs=lambda o: {"month": "2026-10"}, get=frozenset({"township", "superuser"})
    ),
    "staff:monthly_village": Entry(
        kwargs=lambda o: {"month": "2026-10", "village_id": o.village_x.pk}, get=STAFF_X
    ),
    "staff:quarterly_review": Entry(
        kwargs=lambda o: {"quarter": "2026Q3"}, get=frozenset({"township", "superuser"})
    ),
    # --- points ----------------------------------------------------------------------------
    "points:claim_queue": Entry(get=STAFF),
    "points:claim_decide": Entry(kwargs=pk("claim"), get=STAFF_X),
    "points:batch_decide": Entry(kwargs=pk("batch"), get=STAFF_X),
    "points:claim_pick": Entry(get=STAFF | {"rep_a", "rep_b"}),
    "points:claim_new": Entry(
        kwargs=lambda o: {"household_id": o.household.pk}, get=STAFF_X | {"rep_a"}
    ),
    "points:bulk_award": Entry(get=STAFF),
    "points:passbook": Entry(
        kwargs=lambda o: {"household_id": o.household.pk}, get=STAFF_X | {"rep_a"}
    ),
    "points:counter": Entry(get=STAFF, why="township staff may look; only village staff redeem"),
    "points:counter_household": Entry(
        kwargs=lambda o: {"household_id": o.household.pk},
        get=STAFF_X,
        post_allowed=frozenset({"clerk_x", "superuser"}),
    ),
    "points:redemption_receipt": Entry(kwargs=pk("redemption"), get=STAFF_X),
    "points:shop_list": Entry(get=STAFF),
    "points:shop_report": Entry(kwargs=pk("shop"), get=STAFF_X),
    "points:rule_list": Entry(
        get=ALL_SIGNED_IN, why="what earns points is no secret; each sees their own scope"
    ),
    "points:honour_list": Entry(get=STAFF),
    "points:honour_certificate": Entry(kwargs=pk("honour"), get=STAFF_X),
    "points:public_honours": Entry(
        kwargs=lambda o: {"village_code": o.village_x.code}, get=EVERYONE, public=True
    ),
    "points:public_lookup": Entry(get=EVERYONE, public=True),
    "points:public_passbook": Entry(
        kwargs=lambda o: {"code": o.household.public_code}, get=EVERYONE, public=True
    ),
    "points:staff_lists": Entry(get=STAFF),
    "points:list_entry_withdraw": Entry(
        kwargs=pk("list_entry"),
        post_only=True,
        post_allowed=STAFF_X,
    ),
    "points:list_objection_record": Entry(
        kwargs=pk("list_entry"),
        post_only=True,
        post_allowed=STAFF_X,
    ),
    "points:list_objection_decide": Entry(
        kwargs=pk("objection"),
        post_only=True,
        post_allowed=STAFF_X,
    ),
    "points:public_lists": Entry(
        kwargs=lambda o: {"village_code": o.village_x.code}, get=EVERYONE, public=True
    ),
    "points:public_lists_print": Entry(
        kwargs=lambda o: {"village_code": o.village_x.code}, get=EVERYONE, public=True
    ),
    # --- deliberation ----------------------------------------------------------------------
    "deliberation:body_list": Entry(get=STAFF),
    "deliberation:body_create": Entry(get=STAFF),
    "deliberation:body_detail": Entry(kwargs=pk("body"), get=STAFF_X),
    "deliberation:meeting_list": Entry(get=STAFF),
    "deliberation:meeting_create": Entry(get=STAFF),
    "deliberation:meeting_detail": Entry(kwargs=pk("meeting"), get=STAFF_X),
    "deliberation:meeting_announce": Entry(
        kwargs=pk("meeting"), post_only=True, post_allowed=STAFF_X
    ),
    "deliberation:meeting_conclude": Entry(kwargs=pk("meeting"), get=STAFF_X),
    "deliberation:meeting_cancel": Entry(kwargs=pk("meeting"), get=STAFF_X),
    "deliberation:meeting_photo_add": Entry(kwargs=pk("meeting"), get=STAFF_X),
    "deliberation:meeting_attendance": Entry(kwargs=pk("meeting"), get=STAFF_X),
    "deliberation:motion_create": Entry(kwargs=pk("meeting"), get=STAFF_X),
    "deliberation:ballot_create": Entry(get=STAFF),
    "deliberation:motion_detail": Entry(kwargs=pk("motion"), get=STAFF_X),
    "deliberation:motion_vote": Entry(kwargs=pk("motion"), get=STAFF_X),
    "deliberation:motion_open": Entry(kwargs=pk("motion"), post_only=True, post_allowed=STAFF_X),
    "deliberation:motion_close": Entry(kwargs=pk("motion"), post_only=True, post_allowed=STAFF_X),
    "deliberation:rule_version_list": Entry(get=STAFF),
    "deliberation:rule_version_create": Entry(get=STAFF),
    "deliberation:rule_version_detail": Entry(kwargs=pk("version"), get=STAFF_X),
    "deliberation:rule_version_print": Entry(kwargs=pk("version"), get=STAFF_X),
    "deliberation:rule_version_action": Entry(
        kwargs=lambda o: {"pk": o.version.pk, "action": "submit"}, get=STAFF_X
    ),
    "deliberation:commitments": Entry(get=VILLAGE_STAFF - {"superuser"} | {"rep_a", "rep_b"}),
    "deliberation:public_board": Entry(
        kwargs=lambda o: {"village_code": o.village_x.code}, get=EVERYONE, public=True
    ),
    "deliberation:public_rules": Entry(
        kwargs=lambda o: {"village_code": o.village_x.code}, get=EVERYONE, public=True
    ),
    "deliberation:public_article": Entry(
        kwargs=lambda o: {"village_code": o.village_x.code, "number": 1},
        get=EVERYONE,
        public=True,
    ),
    "deliberation:public_consultation": Entry(
        kwargs=lambda o: {"village_code": o.village_x.code, "pk": o.version.pk},
        get=EVERYONE,
        public=True,
    ),
}

"""Hostile input through the request, notice, work-list and service-day forms, on the
representative's phone pages and the staff pages: a Chinese error or a clean 4xx, never a 500;
a redirect writes exactly what the action writes, or nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from governance import forms
from tests.security.form_coverage import covers
from tests.security.hostile import FAST, NASTY, WEIRD, Effect, get_example, hunt, maybe

pytestmark = pytest.mark.django_db

AUDIT = "grids.AuditEntry"
EVENT = "governance.RequestEvent"
REQUEST = "governance.Request"
SATISFACTION = st.one_of(st.sampled_from(["satisfied", "basically", "unsatisfied"]), NASTY)


@pytest.fixture
def o(world):
    return world.obj


def transition(grows: dict | None = None) -> Effect:
    """One step of a request's timeline: an event, the request row (a cache of its events)."""
    return Effect(grows={EVENT: 1, AUDIT: (0, 1), **(grows or {})}, changes=frozenset({REQUEST}))


def rep_action(item, action: str) -> str:
    return reverse("rep:request_action", args=[item.pk, action])


def staff_action(item, action: str) -> str:
    return reverse("staff:request_action", args=[item.pk, action])


# --- the representative's request page -------------------------------------------------------


@covers(forms.NoteForm)
@pytest.mark.parametrize("action", ["progress", "escalate"])
def test_rep_note_actions(action, stages, client_for):
    hunt(
        client_for("rep_a"),
        rep_action(stages.in_progress, action),
        {"note": "已联系施工队"},
        st.fixed_dictionaries({"note": maybe("已联系施工队")}),
        effect=transition(),
        watch=[REQUEST],
    )


def test_rep_answers_a_consultation(stages, client_for):
    hunt(
        client_for("rep_a"),
        rep_action(stages.consultation, "answer"),
        {"note": "按政策可申请"},
        st.fixed_dictionaries({"note": maybe("按政策可申请")}),
        effect=transition(),
        watch=[REQUEST],
    )


def test_rep_starts_a_triaged_request(stages, client_for):
    hunt(
        client_for("rep_a"),
        rep_action(stages.triaged, "start"),
        {},
        st.fixed_dictionaries({"note": NASTY}),
        effect=transition(),
        watch=[REQUEST],
    )


@covers(forms.ResolveForm)
def test_rep_resolves(stages, client_for):
    hunt(
        client_for("rep_a"),
        rep_action(stages.in_progress, "resolve"),
        {"note": "已修好", "mediation_agreement": ""},
        st.fixed_dictionaries({"note": maybe("已修好"), "mediation_agreement": NASTY}),
        effect=transition(),
        watch=[REQUEST],
    )


@covers(forms.ReturnVisitForm)
def test_rep_records_a_return_visit(stages, client_for):
    hunt(
        client_for("rep_a"),
        rep_action(stages.resolved, "return_visit"),
        {"satisfaction": "satisfied", "note": "群众满意"},
        st.fixed_dictionaries({"satisfaction": SATISFACTION, "note": NASTY}),
        effect=transition({"governance.ReturnVisit": 1}),
        watch=[REQUEST],
    )


def test_rep_action_names_from_the_path_are_checked(o, client_for):
    client = client_for("rep_a")

    @FAST
    @given(st.sampled_from(["delete", "close", "triage", "supervise", "x" * 50, "_", "-"]))
    def prop(action):
        response = client.post(rep_action(o.request_grid, action), {"note": "试"})
        assert response.status_code == 404

    prop()


# --- the staff request page -----------------------------------------------------------------


def test_staff_resolves(stages, client_for):
    hunt(
        client_for("clerk_x"),
        staff_action(stages.in_progress, "resolve"),
        None,  # a grid-level request is the representative's to resolve
        st.fixed_dictionaries({"note": maybe("已修好"), "mediation_agreement": NASTY}),
        effect=transition(),
        watch=[REQUEST],
    )


def test_staff_records_a_return_visit(stages, client_for):
    hunt(
        client_for("clerk_x"),
        staff_action(stages.resolved, "return_visit"),
        {"satisfaction": "unsatisfied", "note": "还在漏"},
        st.fixed_dictionaries({"satisfaction": SATISFACTION, "note": NASTY}),
        effect=transition({"governance.ReturnVisit": 1}),
        watch=[REQUEST],
    )


@covers(forms.MeetingLinkForm)
def test_staff_links_a_meeting(o, client_for):
    hunt(
        client_for("clerk_x"),
        staff_action(o.request_grid, "meeting"),
        {"meeting": o.meeting.pk},
        st.fixed_dictionaries({"meeting": st.one_of(maybe(o.meeting.pk), st.just(0))}),
        effect=transition({"governance.RequestMeeting": 1}),
        watch=[REQUEST],
    )


def test_handler_acknowledges(o, client_for):
    hunt(
        client_for("handler"),
        staff_action(o.request, "acknowledge"),
        {"note": "已收到"},
        st.fixed_dictionaries({"note": NASTY}),
        effect=transition(),
        watch=[REQUEST],
    )


# --- notices, work lists, service day -------------------------------------------------------


@covers(forms.NoticeForm)
@pytest.mark.parametrize("role", ["clerk_x", "township"])
def test_notice_publish(role, o, client_for):
    hunt(
        client_for(role),
        reverse("staff:notice_list"),
        {"title": "秋收防火", "body": "注意用火", "village": o.village_x.pk},
        st.fixed_dictionaries(
            {
                "title": maybe("秋收防火"),
                "body": maybe("注意用火"),
                "village": st.one_of(maybe(o.village_x.pk), st.just(o.village_y.pk), st.just("")),
            }
        ),
        effect=Effect(grows={"governance.Notice": 1, AUDIT: 1}),
    )


def _next_month() -> str:
    first = timezone.localdate().replace(day=1) + dt.timedelta(days=32)
    return f"{first:%Y-%m}"


MANAGEMENT = st.one_of(
    st.just({"form-TOTAL_FORMS": "2", "form-INITIAL_FORMS": "0"}),
    st.fixed_dictionaries({"form-TOTAL_FORMS": NASTY, "form-INITIAL_FORMS": NASTY}),
    st.just({"form-TOTAL_FORMS": "1000", "form-INITIAL_FORMS": "0"}),
    st.just({}),
)


@covers(forms.WorkListForm, forms.WorkListItemForm)
def test_work_list_publish(o, client_for):
    rows = st.fixed_dictionaries(
        {
            "form-0-title": maybe("清理沟渠"),
            "form-0-catalogue_item": st.one_of(st.just(""), NASTY),
            "form-0-per_household": st.sampled_from(["", "on"]),
            "form-1-title": NASTY,
        }
    )
    hunt(
        client_for("clerk_x"),
        reverse("staff:work_lists"),
        {
            "village": o.village_x.pk,
            "month": _next_month(),
            "form-TOTAL_FORMS": "2",
            "form-INITIAL_FORMS": "0",
            "form-0-title": "清理沟渠",
            "form-0-per_household": "on",
        },
        st.builds(
            lambda head, management, items: {**head, **management, **items},
            st.fixed_dictionaries(
                {
                    "village": st.one_of(maybe(o.village_x.pk), st.just(o.village_y.pk)),
                    "month": st.one_of(
                        st.sampled_from([_next_month(), "2026-13", "9999-01", "0001-01"]), NASTY
                    ),
                }
            ),
            MANAGEMENT,
            rows,
        ),
        effect=Effect(
            grows={"governance.WorkList": 1, "governance.WorkListItem": (1, 2), AUDIT: 1}
        ),
    )


@covers(forms.ServiceDayForm)
def test_service_day_set(o, client_for):
    hunt(
        client_for("clerk_x"),
        reverse("staff:service_day"),
        {"village": o.village_x.pk, "week": 2, "weekday": 3},
        st.fixed_dictionaries(
            {
                "village": st.one_of(maybe(o.village_x.pk), st.just(o.village_y.pk)),
                "week": st.one_of(st.sampled_from(["1", "4", "5", "0"]), NASTY),
                "weekday": st.one_of(st.sampled_from(["0", "6", "7"]), NASTY),
                "day": st.one_of(st.just(""), NASTY),
            }
        ),
        effect=Effect(grows={"governance.ServiceDaySetting": (0, 1), AUDIT: 1}),
        watch=["governance.ServiceDaySetting"],
    )


# --- query strings ------------------------------------------------------------------------------

QUERY = st.one_of(NASTY, st.sampled_from(WEIRD))


@covers(forms.RequestFilterForm)
@pytest.mark.parametrize("page", ["staff:request_list", "staff:request_export"])
def test_request_filters(page, o, client_for):
    client = client_for("township")
    url = reverse(page, kwargs={"fmt": "csv"} if page.endswith("export") else {})

    @FAST
    @given(
        st.fixed_dictionaries(
            {
                "village": st.one_of(maybe(o.village_x.pk), QUERY),
                "grid": st.one_of(maybe(o.grid_a.pk), QUERY),
                "status": st.one_of(maybe("reported"), QUERY),
                "level": st.one_of(maybe("grid"), QUERY),
                "category": QUERY,
                "kind": st.one_of(maybe("request"), QUERY),
                "overdue": st.sampled_from(["", "on", "1"]),
                "q": QUERY,
                "page": QUERY,
            }
        )
    )
    def prop(params):
        response = get_example(client, url, params, audited=page.endswith("export"))
        assert response.status_code == 200

    prop()


# --- the buttons that post only ids --------------------------------------------------------------

IDS = st.one_of(st.sampled_from(["0", "-1", "1.5", "²", "٣", str(2**63), str(10**20)]), NASTY)


def test_rep_confirms_a_notice_reached_a_household(o, client_for):
    hunt(
        client_for("rep_a"),
        reverse("rep:notice_confirm", args=[o.notice.pk]),
        {"household": o.household.pk, "page": "2"},
        st.fixed_dictionaries(
            {
                "household": st.one_of(maybe(o.household.pk), st.just(o.household_y.pk), IDS),
                "page": st.one_of(st.just("1"), IDS),
            }
        ),
        effect=Effect(grows={"governance.NoticeDelivery": 1, AUDIT: 1}),
        silent_ok=True,  # confirming again is no news
    )


def test_rep_ticks_a_work_list_item(o, client_for):
    hunt(
        client_for("rep_a"),
        reverse("rep:work_item_done", args=[o.work_item.pk]),
        {},
        st.fixed_dictionaries({"household": st.one_of(maybe(o.household.pk), IDS), "next": NASTY}),
        effect=Effect(grows={"governance.WorkListDone": 1, AUDIT: 1}),
        silent_ok=True,
    )


@pytest.mark.parametrize("role", ["clerk_x", "township"])
def test_report_run_requested(role, client_for):
    hunt(
        client_for(role),
        reverse("staff:reports_run"),
        {"kind": "monthly", "month": "2026-09"},
        st.fixed_dictionaries(
            {
                "kind": st.one_of(st.sampled_from(["monthly", "lists"]), NASTY),
                "month": st.one_of(
                    st.sampled_from(["2026-09", "2026-13", "9999-01", "0000-01", "２０２６-０９"]),
                    NASTY,
                ),
                "quarter": st.one_of(st.sampled_from(["2026Q3", "2026Q5", "9999Q1"]), NASTY),
            }
        ),
        effect=Effect(grows={"governance.JobRun": 1, AUDIT: (0, 1)}),
    )

"""Arbitrary sequences of actions by arbitrary people never break the closed loop's invariants.

Each Hypothesis example runs inside a transaction that is rolled back, on one set of fixtures:
- the request row's status always equals its last event's ``to_status`` (the row is a cache);
- an accepted action appends exactly one event, a refused one appends nothing and changes nothing;
- every status change is an edge of DESIGN §5.1's graph.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from governance import services
from governance.models import Request, RequestEvent
from tests.governance.factories import report

S = Request.Status

ALLOWED_EDGES = {
    ("", S.REPORTED),
    (S.REPORTED, S.TRIAGED),
    (S.REPORTED, S.CLOSED),  # consultation answered
    (S.REPORTED, S.DUPLICATE),
    (S.TRIAGED, S.DUPLICATE),
    (S.TRIAGED, S.ACKNOWLEDGED),
    (S.TRIAGED, S.IN_PROGRESS),
    (S.TRIAGED, S.REPORTED),  # escalated or returned
    (S.ACKNOWLEDGED, S.IN_PROGRESS),
    (S.ACKNOWLEDGED, S.REPORTED),
    (S.IN_PROGRESS, S.RESOLVED),
    (S.IN_PROGRESS, S.REPORTED),
    (S.RESOLVED, S.CLOSED),
    (S.RESOLVED, S.IN_PROGRESS),  # 不满意 reopens
}

ACTIONS = [
    "triage_grid",
    "triage_village",
    "triage_township",
    "acknowledge",
    "start",
    "progress",
    "resolve",
    "escalate",
    "return",
    "return_visit_ok",
    "return_visit_unhappy",
    "close",
    "answer",
    "duplicate",
    "supervise",
]
ACTORS = ["rep", "other_rep", "clerk", "township", "handler", "other_handler"]
# Steps the right person would take, so that examples get deep into the loop; mixed with noise.
USUAL_STEPS = [
    ("triage_grid", "clerk"),
    ("triage_village", "clerk"),
    ("triage_township", "clerk"),
    ("acknowledge", "handler"),
    ("start", "rep"),
    ("start", "clerk"),
    ("start", "handler"),
    ("progress", "rep"),
    ("resolve", "rep"),
    ("resolve", "clerk"),
    ("resolve", "handler"),
    ("escalate", "rep"),
    ("escalate", "clerk"),
    ("return", "handler"),
    ("return_visit_ok", "rep"),
    ("return_visit_unhappy", "clerk"),
    ("close", "clerk"),
    ("answer", "rep"),
    ("supervise", "township"),
]


def perform(action: str, actor, request: Request, ctx: dict) -> None:
    if action.startswith("triage_"):
        level = action.removeprefix("triage_")
        services.request_triage(
            actor=actor,
            request=request,
            level=level,
            department=ctx["department"] if level == "township" else None,
        )
    elif action == "acknowledge":
        services.request_acknowledge(actor=actor, request=request)
    elif action == "start":
        services.request_start(actor=actor, request=request)
    elif action == "progress":
        services.request_add_progress(actor=actor, request=request, note="进展")
    elif action == "resolve":
        services.request_resolve(actor=actor, request=request, note="办结")
    elif action == "escalate":
        services.request_escalate(actor=actor, request=request, reason="上报")
    elif action == "return":
        services.request_return(actor=actor, request=request, reason="退回")
    elif action == "return_visit_ok":
        services.return_visit_record(actor=actor, request=request, satisfaction="satisfied")
    elif action == "return_visit_unhappy":
        services.return_visit_record(actor=actor, request=request, satisfaction="unsatisfied")
    elif action == "close":
        services.request_close(actor=actor, request=request, reason="关闭")
    elif action == "answer":
        services.consultation_answer(actor=actor, request=request, answer="答复")
    elif action == "duplicate":
        services.request_mark_duplicate(actor=actor, request=request, original=ctx["original"])
    elif action == "supervise":
        services.supervision_add(actor=actor, request=request, note="督办")


@pytest.fixture
def people(
    representative, other_rep, village_clerk, township_staff, handler, other_handler, department
):
    return {
        "rep": representative.user,
        "other_rep": other_rep.user,
        "clerk": village_clerk,
        "township": township_staff,
        "handler": handler,
        "other_handler": other_handler,
        "department": department,
        "original": report(representative, title="原件"),
        "representative": representative,
    }


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from(["request", "request", "request", "consultation"]),
    steps=st.lists(
        st.one_of(
            st.sampled_from(USUAL_STEPS),
            st.sampled_from(USUAL_STEPS),
            st.sampled_from(USUAL_STEPS),
            st.tuples(st.sampled_from(ACTIONS), st.sampled_from(ACTORS)),
        ),
        max_size=16,
    ),
)
def test_any_sequence_keeps_row_and_timeline_consistent(people, kind, steps):
    with transaction.atomic():
        request = report(people["representative"], kind=kind, title="随机序列")
        for action, who in steps:
            before = Request.objects.get(pk=request.pk)
            events_before = RequestEvent.objects.filter(request=request).count()
            try:
                # A savepoint per step: a refused step must leave nothing behind on its own.
                with transaction.atomic():
                    perform(action, people[who], request, people)
            except (ValidationError, PermissionDenied):
                after = Request.objects.get(pk=request.pk)
                assert after.status == before.status
                assert after.level == before.level
                assert after.department_id == before.department_id
                assert RequestEvent.objects.filter(request=request).count() == events_before
                continue
            events = list(RequestEvent.objects.filter(request=request).order_by("id"))
            assert len(events) == events_before + 1, action
            after = Request.objects.get(pk=request.pk)
            assert after.status == events[-1].to_status
            assert events[-1].from_status == before.status
            if before.status != after.status:
                assert (before.status, after.status) in ALLOWED_EDGES, (action, who)
        final = Request.objects.get(pk=request.pk)
        last = RequestEvent.objects.filter(request=request).order_by("id").last()
        assert final.status == last.to_status
        event(f"ended {final.status}")
        if final.status == S.RESOLVED:
            assert final.resolved_at is not None and final.resolved_level == final.level
        transaction.set_rollback(True)

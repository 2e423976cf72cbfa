"""Every transition of the request state machine (DESIGN §5.1), legal and illegal."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction

from governance import services
from governance.models import Request, RequestEvent, ReturnVisit, Supervision
from tests.governance.factories import in_progress, report, resolved, triaged

S = Request.Status


def events(request):
    return list(
        RequestEvent.objects.filter(request=request)
        .order_by("id")
        .values_list("action", "from_status", "to_status")
    )


def assert_unchanged(request, before_status, before_events):
    """A refused transition leaves the row and its timeline exactly as they were."""
    request.refresh_from_db()
    assert request.status == before_status
    assert RequestEvent.objects.filter(request=request).count() == before_events


# --- report -----------------------------------------------------------------------------------


def test_representative_reports_request_with_one_event(representative):
    request = report(representative, description="村口两盏路灯", proposed_level="village")
    assert request.status == S.REPORTED
    assert request.representative == representative
    assert request.grid_id == representative.grid_id
    assert events(request) == [("report", "", S.REPORTED)]


def test_representative_cannot_report_for_another_reps_household(representative, other_rep):
    foreign = other_rep.households.first()
    with pytest.raises(PermissionDenied):
        services.request_report(actor=representative.user, household=foreign, title="x")
    assert not Request.objects.exists()


def test_dispute_without_parties_is_refused_in_chinese(representative):
    with pytest.raises(ValidationError) as exc:
        report(representative, kind="dispute")
    assert "当事人" in str(exc.value)


# --- triage -----------------------------------------------------------------------------------


def test_triage_to_township_sets_department_and_both_deadlines(
    representative, village_clerk, department
):
    request = report(representative, proposed_level="township")
    services.request_triage(
        actor=village_clerk, request=request, level="township", department=department
    )
    request.refresh_from_db()
    assert request.status == S.TRIAGED
    assert request.department == department
    assert request.ack_deadline is not None and request.deadline is not None
    assert events(request)[-1] == ("triage", S.REPORTED, S.TRIAGED)


def test_triage_changing_level_notes_the_change(representative, village_clerk):
    request = report(representative, proposed_level="township")
    services.request_triage(actor=village_clerk, request=request, level="grid")
    assert "调整" in RequestEvent.objects.filter(request=request).last().note


def test_township_level_without_department_is_refused(representative, village_clerk):
    request = report(representative)
    with pytest.raises(ValidationError) as exc:
        services.request_triage(actor=village_clerk, request=request, level="township")
    assert "部门" in str(exc.value)
    assert_unchanged(request, S.REPORTED, 1)


def test_representative_cannot_triage(representative):
    request = report(representative)
    with pytest.raises(PermissionDenied):
        services.request_triage(actor=representative.user, request=request, level="grid")
    assert_unchanged(request, S.REPORTED, 1)


def test_triage_twice_is_refused(representative, village_clerk):
    request = triaged(representative, village_clerk)
    with pytest.raises(ValidationError):
        services.request_triage(actor=village_clerk, request=request, level="village")
    assert_unchanged(request, S.TRIAGED, 2)


def test_other_villages_clerk_cannot_triage(representative, other_village):
    from grids.models import Role
    from tests.factories import user_with_scope

    foreign_clerk = user_with_scope(Role.VILLAGE_STAFF, village=other_village)
    request = report(representative)
    with pytest.raises(PermissionDenied):
        services.request_triage(actor=foreign_clerk, request=request, level="grid")
    assert_unchanged(request, S.REPORTED, 1)


# --- acknowledge / start ----------------------------------------------------------------------


def test_department_acknowledges_then_starts(representative, village_clerk, department, handler):
    request = triaged(representative, village_clerk, level="township", department=department)
    services.request_acknowledge(actor=handler, request=request)
    request.refresh_from_db()
    assert request.status == S.ACKNOWLEDGED and request.acknowledged_at is not None
    services.request_start(actor=handler, request=request)
    assert [e[0] for e in events(request)] == ["report", "triage", "acknowledge", "start"]


def test_other_department_cannot_acknowledge(
    representative, village_clerk, department, other_handler
):
    request = triaged(representative, village_clerk, level="township", department=department)
    with pytest.raises(PermissionDenied):
        services.request_acknowledge(actor=other_handler, request=request)
    assert_unchanged(request, S.TRIAGED, 2)


def test_department_cannot_start_before_acknowledging(
    representative, village_clerk, department, handler
):
    request = triaged(representative, village_clerk, level="township", department=department)
    with pytest.raises(ValidationError) as exc:
        services.request_start(actor=handler, request=request)
    assert "报到" in str(exc.value)
    assert_unchanged(request, S.TRIAGED, 2)


def test_acknowledge_is_only_for_township_level(representative, village_clerk, handler):
    request = triaged(representative, village_clerk, level="grid")
    with pytest.raises(PermissionDenied):
        services.request_acknowledge(actor=handler, request=request)


def test_representative_starts_and_resolves_grid_level(representative, village_clerk):
    request = in_progress(representative, village_clerk)
    services.request_resolve(actor=representative.user, request=request, note="已协调")
    request.refresh_from_db()
    assert request.status == S.RESOLVED
    assert request.resolved_level == "grid"
    assert not request.escalated


def test_representative_cannot_resolve_village_level(representative, village_clerk):
    request = triaged(representative, village_clerk, level="village")
    with pytest.raises(PermissionDenied):
        services.request_start(actor=representative.user, request=request)
    assert_unchanged(request, S.TRIAGED, 2)


def test_representative_of_another_grid_cannot_act(representative, other_rep, village_clerk):
    request = in_progress(representative, village_clerk)
    with pytest.raises(PermissionDenied):
        services.request_resolve(actor=other_rep.user, request=request, note="x")
    with pytest.raises(PermissionDenied):
        services.request_add_progress(actor=other_rep.user, request=request, note="x")
    assert_unchanged(request, S.IN_PROGRESS, 3)


# --- progress / resolve -----------------------------------------------------------------------


def test_progress_adds_event_without_changing_status(representative, village_clerk):
    request = in_progress(representative, village_clerk)
    services.request_add_progress(actor=representative.user, request=request, note="已联系电工")
    request.refresh_from_db()
    assert request.status == S.IN_PROGRESS
    assert events(request)[-1] == ("progress", S.IN_PROGRESS, S.IN_PROGRESS)


def test_empty_progress_note_is_refused(representative, village_clerk):
    request = in_progress(representative, village_clerk)
    with pytest.raises(ValidationError):
        services.request_add_progress(actor=representative.user, request=request, note="  ")
    assert_unchanged(request, S.IN_PROGRESS, 3)


def test_resolving_a_closed_request_is_refused(representative, village_clerk):
    request = resolved(representative, village_clerk)
    services.return_visit_record(
        actor=representative.user, request=request, satisfaction="satisfied"
    )
    with pytest.raises(ValidationError) as exc:
        services.request_resolve(actor=representative.user, request=request, note="again")
    assert "已关闭" in str(exc.value)
    assert_unchanged(request, S.CLOSED, 5)


def test_resolve_requires_in_progress(representative, village_clerk):
    request = triaged(representative, village_clerk)
    with pytest.raises(ValidationError):
        services.request_resolve(actor=representative.user, request=request, note="x")
    assert_unchanged(request, S.TRIAGED, 2)


def test_dispute_resolution_records_mediation_agreement(representative, village_clerk):
    request = in_progress(
        representative,
        village_clerk,
        kind="dispute",
        dispute_parties="张某、李某",
        mediators="王主任",
    )
    services.request_resolve(
        actor=representative.user,
        request=request,
        note="调解成功",
        mediation_agreement="宅基地以石为界",
    )
    request.refresh_from_db()
    assert request.mediation_agreement == "宅基地以石为界"


# --- escalate / return ------------------------------------------------------------------------


def test_grid_escalates_one_level_to_village_triage(representative, village_clerk):
    request = in_progress(representative, village_clerk)
    services.request_escalate(actor=representative.user, request=request, reason="需要村里出资")
    request.refresh_from_db()
    assert request.status == S.REPORTED
    assert request.proposed_level == "village" and request.level == ""
    assert request.escalated
    assert events(request)[-1] == ("escalate", S.IN_PROGRESS, S.REPORTED)


def test_escalate_without_reason_is_refused(representative, village_clerk):
    request = in_progress(representative, village_clerk)
    with pytest.raises(ValidationError):
        services.request_escalate(actor=representative.user, request=request, reason="")
    assert_unchanged(request, S.IN_PROGRESS, 3)


def test_township_level_cannot_escalate_further(representative, village_clerk, department, handler):
    request = in_progress(
        representative, village_clerk, level="township", department=department, handler=handler
    )
    with pytest.raises(ValidationError):
        services.request_escalate(actor=handler, request=request, reason="x")
    assert_unchanged(request, S.IN_PROGRESS, 4)


def test_escalated_request_resolved_at_village_is_not_resolved_in_grid(
    representative, village_clerk
):
    request = in_progress(representative, village_clerk)
    services.request_escalate(actor=representative.user, request=request, reason="需要村里")
    services.request_triage(actor=village_clerk, request=request, level="village")
    services.request_start(actor=village_clerk, request=request)
    services.request_resolve(actor=village_clerk, request=request, note="村里办好")
    request.refresh_from_db()
    assert request.resolved_level == "village" and request.escalated


def test_department_returns_request_to_triage(representative, village_clerk, department, handler):
    request = triaged(representative, village_clerk, level="township", department=department)
    services.request_return(actor=handler, request=request, reason="不属于本部门职责")
    request.refresh_from_db()
    assert request.status == S.REPORTED
    assert request.department is None and request.level == ""
    assert events(request)[-1] == ("return", S.TRIAGED, S.REPORTED)


def test_other_department_cannot_return(representative, village_clerk, department, other_handler):
    request = triaged(representative, village_clerk, level="township", department=department)
    with pytest.raises(PermissionDenied):
        services.request_return(actor=other_handler, request=request, reason="x")
    assert_unchanged(request, S.TRIAGED, 2)


# --- return visit / close ---------------------------------------------------------------------


def test_satisfied_return_visit_closes(representative, village_clerk):
    request = resolved(representative, village_clerk)
    services.return_visit_record(
        actor=village_clerk, request=request, satisfaction="basically", note="基本满意"
    )
    request.refresh_from_db()
    assert request.status == S.CLOSED and request.satisfaction == "basically"
    assert ReturnVisit.objects.filter(request=request).count() == 1
    assert events(request)[-1] == ("return_visit", S.RESOLVED, S.CLOSED)


def test_unsatisfied_return_visit_reopens(representative, village_clerk):
    request = resolved(representative, village_clerk)
    services.return_visit_record(
        actor=representative.user, request=request, satisfaction="unsatisfied", note="灯还是暗"
    )
    request.refresh_from_db()
    assert request.status == S.IN_PROGRESS
    assert request.resolved_at is None
    assert events(request)[-1] == ("reopen", S.RESOLVED, S.IN_PROGRESS)


def test_return_visit_before_resolution_is_refused(representative, village_clerk):
    request = in_progress(representative, village_clerk)
    with pytest.raises(ValidationError):
        services.return_visit_record(
            actor=representative.user, request=request, satisfaction="satisfied"
        )
    assert not ReturnVisit.objects.exists()
    assert_unchanged(request, S.IN_PROGRESS, 3)


def test_department_cannot_record_return_visit(representative, village_clerk, department, handler):
    request = in_progress(
        representative, village_clerk, level="township", department=department, handler=handler
    )
    services.request_resolve(actor=handler, request=request, note="已办")
    with pytest.raises(PermissionDenied):
        services.return_visit_record(actor=handler, request=request, satisfaction="satisfied")


def test_staff_close_resolved_without_return_visit(representative, village_clerk):
    request = resolved(representative, village_clerk)
    services.request_close(actor=village_clerk, request=request, reason="户主外出务工，联系不上")
    request.refresh_from_db()
    assert request.status == S.CLOSED and request.closed_at is not None


def test_representative_cannot_close(representative, village_clerk):
    request = resolved(representative, village_clerk)
    with pytest.raises(PermissionDenied):
        services.request_close(actor=representative.user, request=request, reason="x")
    assert_unchanged(request, S.RESOLVED, 4)


# --- consultation -----------------------------------------------------------------------------


def test_consultation_answered_and_closed_in_one_step(representative):
    request = report(representative, kind="consultation", title="医保怎么交")
    services.consultation_answer(
        actor=representative.user, request=request, answer="村部代收，截止12月底"
    )
    request.refresh_from_db()
    assert request.status == S.CLOSED and request.resolved_level == "grid"
    assert events(request) == [("report", "", S.REPORTED), ("answer", S.REPORTED, S.CLOSED)]


def test_only_consultations_can_be_answered(representative):
    request = report(representative)
    with pytest.raises(ValidationError):
        services.consultation_answer(actor=representative.user, request=request, answer="x")
    assert_unchanged(request, S.REPORTED, 1)


def test_consultation_is_not_triaged(representative, village_clerk):
    request = report(representative, kind="consultation")
    with pytest.raises(ValidationError):
        services.request_triage(actor=village_clerk, request=request, level="grid")


# --- duplicates -------------------------------------------------------------------------------


def test_duplicate_feedback_goes_to_the_original(representative, village_clerk):
    original = resolved(representative, village_clerk)
    copy = report(representative, title="路灯还是不亮")
    services.request_mark_duplicate(actor=village_clerk, request=copy, original=original)
    copy.refresh_from_db()
    assert copy.status == S.DUPLICATE and copy.duplicate_of == original

    services.return_visit_record(actor=village_clerk, request=copy, satisfaction="satisfied")
    original.refresh_from_db()
    assert original.status == S.CLOSED and original.satisfaction == "satisfied"
    assert ReturnVisit.objects.get().request == original
    copy.refresh_from_db()
    assert copy.status == S.DUPLICATE


def test_cannot_mark_duplicate_of_itself(representative, village_clerk):
    request = report(representative)
    with pytest.raises(ValidationError):
        services.request_mark_duplicate(actor=village_clerk, request=request, original=request)
    assert_unchanged(request, S.REPORTED, 1)


def test_cannot_mark_in_progress_request_duplicate(representative, village_clerk):
    original = report(representative)
    request = in_progress(representative, village_clerk)
    with pytest.raises(ValidationError):
        services.request_mark_duplicate(actor=village_clerk, request=request, original=original)


# --- supervision ------------------------------------------------------------------------------


def test_township_supervises_and_handler_sees_note(
    representative, village_clerk, township_staff, department, handler
):
    from governance.selectors import request_detail
    from grids.access import scope_of

    request = triaged(representative, village_clerk, level="township", department=department)
    services.supervision_add(actor=township_staff, request=request, note="请今天内报到")
    seen = request_detail(scope=scope_of(handler), request_id=request.pk)
    assert [s.note for s in seen.supervisions.all()] == ["请今天内报到"]
    assert events(request)[-1] == ("supervise", S.TRIAGED, S.TRIAGED)


def test_village_clerk_cannot_supervise(representative, village_clerk):
    request = report(representative)
    with pytest.raises(PermissionDenied):
        services.supervision_add(actor=village_clerk, request=request, note="x")
    assert not Supervision.objects.exists()


def test_supervising_closed_request_is_refused(representative, village_clerk, township_staff):
    request = report(representative, kind="consultation")
    services.consultation_answer(actor=village_clerk, request=request, answer="已答复")
    with pytest.raises(ValidationError):
        services.supervision_add(actor=township_staff, request=request, note="x")


# --- the closed loop and the append-only log --------------------------------------------------


def test_full_loop_writes_exactly_one_event_per_transition(
    representative, village_clerk, department, handler
):
    request = report(representative, proposed_level="township")
    services.request_triage(
        actor=village_clerk, request=request, level="township", department=department
    )
    services.request_acknowledge(actor=handler, request=request)
    services.request_start(actor=handler, request=request)
    services.request_add_progress(actor=handler, request=request, note="已派人查看")
    services.request_resolve(actor=handler, request=request, note="已修复水渠")
    services.return_visit_record(
        actor=representative.user, request=request, satisfaction="satisfied"
    )
    assert events(request) == [
        ("report", "", S.REPORTED),
        ("triage", S.REPORTED, S.TRIAGED),
        ("acknowledge", S.TRIAGED, S.ACKNOWLEDGED),
        ("start", S.ACKNOWLEDGED, S.IN_PROGRESS),
        ("progress", S.IN_PROGRESS, S.IN_PROGRESS),
        ("resolve", S.IN_PROGRESS, S.RESOLVED),
        ("return_visit", S.RESOLVED, S.CLOSED),
    ]


@pytest.mark.django_db(transaction=True)
def test_request_events_cannot_be_updated_or_deleted(representative):
    request = report(representative)
    event = RequestEvent.objects.get(request=request)
    with pytest.raises(DatabaseError) as exc, transaction.atomic():
        RequestEvent.objects.filter(pk=event.pk).update(note="改写历史")
    assert "append-only" in str(exc.value)
    with pytest.raises(DatabaseError) as exc, transaction.atomic():
        RequestEvent.objects.filter(pk=event.pk).delete()
    assert "append-only" in str(exc.value)
    assert RequestEvent.objects.get(pk=event.pk).note == ""

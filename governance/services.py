"""Every write of the request closed loop (DESIGN §5.1), notices, work lists and 三个清单.

Each transition is one transaction that locks the request row, checks who is acting and from
which status, updates the row and appends exactly one RequestEvent. A refused transition raises
PermissionDenied (wrong person) or ValidationError (wrong status) and writes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.access import UserScope, scope_of
from grids.models import Grid, Household, Representative, Role, Township, Village, Visit
from grids.pii_logging import redact
from grids.services import audit_record, model_create, photo_shrink, snapshot

from .models import (
    CatalogueChange,
    CatalogueItem,
    Department,
    DepartmentMember,
    Notice,
    NoticeDelivery,
    Request,
    RequestCategory,
    RequestEvent,
    ReturnVisit,
    ServiceDaySetting,
    Supervision,
    WorkList,
    WorkListDone,
    WorkListItem,
)

Status = Request.Status
Level = Request.Level

LEVEL_ORDER = [Level.GRID, Level.VILLAGE, Level.TOWNSHIP]


# --- deadlines -------------------------------------------------------------------------------


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def level_deadline_days(*, township: Township, level: str, department: Department | None) -> int:
    """Days allowed at a level, from the township's settings (民事/村事/政事办理时限).

    A 政事 follows the township's limit unless its department has a limit of its own
    (Department.handle_days filled in), which then replaces it, shorter or longer.
    """
    if level == Level.GRID:
        return township.grid_deadline_days
    if level == Level.VILLAGE:
        return township.village_deadline_days
    if department is not None and department.handle_days is not None:
        return department.handle_days
    return township.township_deadline_days


def deadline_after(*, start: dt.datetime, days: int) -> dt.datetime:
    """End of the local (Asia/Shanghai) day ``days`` calendar days after ``start``'s local date.

    "3 days" at 23:30 on the 1st means until the end of the 4th in the township, not UTC.
    """
    zone = local_zone()
    local_date = start.astimezone(zone).date() + dt.timedelta(days=days)
    return dt.datetime.combine(local_date, dt.time(23, 59, 59), tzinfo=zone)


# --- 三个清单 citations ------------------------------------------------------------------------


def village_catalogue_exists(*, township_id: int) -> bool:
    """Whether the township keeps items a village may be given: then every work-list item and
    every request routed to a village cites one (a township without a catalogue is not blocked)."""
    return (
        CatalogueItem.objects.filter(township_id=township_id, exited_on__isnull=True)
        .exclude(list_kind=CatalogueItem.ListKind.BURDEN_RELIEF)
        .exists()
    )


# --- who may act ------------------------------------------------------------------------------


def _is_department_member(user, department_id: int | None) -> bool:
    if department_id is None or user is None:
        return False
    return DepartmentMember.objects.filter(user_id=user.pk, department_id=department_id).exists()


def _representative_owns(scope: UserScope, request: Request) -> bool:
    """A representative acts only on requests of their own grid that they or their household filed."""
    if not scope.is_representative or scope.representative_id is None:
        return False
    if request.grid_id != scope.grid_id:
        return False
    return request.representative_id == scope.representative_id


def _village_staff_for(scope: UserScope, request: Request) -> bool:
    return scope.role in {Role.VILLAGE_STAFF} and scope.village_id == request.village_id


def _township_staff_for(scope: UserScope, request: Request) -> bool:
    if scope.is_superuser:
        return True
    return scope.role == Role.TOWNSHIP_STAFF and scope.township_id == request.village.township_id


def _staff_for(scope: UserScope, request: Request) -> bool:
    return _village_staff_for(scope, request) or _township_staff_for(scope, request)


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _can_handle(actor, scope: UserScope, request: Request) -> bool:
    """The handler of the request at its current level."""
    if request.level == Level.GRID:
        return _representative_owns(scope, request) or _staff_for(scope, request)
    if request.level == Level.VILLAGE:
        return _staff_for(scope, request)
    if request.level == Level.TOWNSHIP:
        return scope.is_superuser or _is_department_member(actor, request.department_id)
    return False


def request_can_see(*, actor, request: Request) -> bool:
    scope = scope_of(actor)
    return (
        _representative_owns(scope, request)
        or _staff_for(scope, request)
        or (scope.role == Role.GRID_LEADER and scope.grid_id == request.grid_id)
        or _is_department_member(actor, request.department_id)
    )


# --- the event log ----------------------------------------------------------------------------


def _locked(request: Request) -> Request:
    """Re-read the request under a row lock: two handlers clicking at once see each other."""
    return (
        Request.objects.select_for_update(of=("self",))
        .select_related("village__township", "department")
        .get(pk=request.pk)
    )


def _require_status(request: Request, allowed: tuple[str, ...], action: str) -> None:
    if request.status not in allowed:
        raise ValidationError(
            _("该诉求当前为“%(status)s”，不能%(action)s")
            % {"status": request.get_status_display(), "action": action}
        )


def _transition(
    *,
    actor,
    request: Request,
    action: str,
    to_status: str,
    note: str = "",
    fields: dict | None = None,
    now: dt.datetime | None = None,
) -> RequestEvent:
    """Apply ``fields`` and the new status to the locked row and append its one event."""
    now = now or timezone.now()
    from_status = request.status
    before = snapshot(request)
    for name, value in (fields or {}).items():
        setattr(request, name, value)
    request.status = to_status
    request.save()
    event = RequestEvent.objects.create(
        request=request,
        actor=actor if getattr(actor, "pk", None) else None,
        at=now,
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=(note or "").strip(),
    )
    audit_record(
        actor=actor,
        action=f"request_{action}",
        instance=request,
        before=before,
        after=snapshot(request),
        village_id=request.village_id,
    )
    return event


def _clean_note(note: str, *, required: bool, label: str) -> str:
    note = (note or "").strip()
    if required and not note:
        raise ValidationError({"note": _("请填写%(label)s") % {"label": label}})
    return note


# --- transitions ------------------------------------------------------------------------------


@transaction.atomic
def request_report(
    *,
    actor,
    household: Household,
    title: str,
    kind: str = Request.Kind.REQUEST,
    description: str = "",
    category: RequestCategory | None = None,
    proposed_level: str = Level.GRID,
    resident=None,
    photo=None,
    source_visit: Visit | None = None,
    dispute_parties: str = "",
    mediators: str = "",
    mediation_agreement: str = "",
) -> Request:
    """发现→反映: a representative (for their own household) or staff records a request."""
    scope = scope_of(actor)
    representative = None
    if scope.is_representative:
        representative = Representative.objects.filter(pk=scope.representative_id).first()
        _require(
            representative is not None and household.representative_id == representative.pk,
            _("只能为自己联系的农户登记诉求"),
        )
    else:
        _require(
            scope.is_superuser
            or (scope.role == Role.VILLAGE_STAFF and scope.village_id == household.village_id)
            or (
                scope.role == Role.TOWNSHIP_STAFF
                and household.village.township_id == scope.township_id
            ),
            _("无权为该户登记诉求"),
        )
        representative = household.representative
    errors = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = _("请填写标题")
    if kind not in Request.Kind.values:
        errors["kind"] = _("请选择类型")
    if proposed_level not in Level.values:
        errors["proposed_level"] = _("请选择建议层级")
    if category is not None and category.township_id != household.village.township_id:
        errors["category"] = _("类别不属于本乡镇")
    if kind == Request.Kind.DISPUTE and not (dispute_parties or "").strip():
        errors["dispute_parties"] = _("矛盾纠纷请填写当事人")
    if resident is not None and resident.household_id != household.pk:
        errors["resident"] = _("反映人必须是该户成员")
    if source_visit is not None and source_visit.household_id != household.pk:
        errors["source_visit"] = _("走访记录不是该户的")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    request = Request(
        village_id=household.village_id,
        grid_id=household.grid_id,
        household=household,
        resident=resident,
        representative=representative,
        reported_by=actor,
        source_visit=source_visit,
        kind=kind,
        category=category,
        title=title,
        description=(description or "").strip(),
        proposed_level=proposed_level,
        dispute_parties=(dispute_parties or "").strip(),
        mediators=(mediators or "").strip(),
        mediation_agreement=(mediation_agreement or "").strip(),
        status=Status.REPORTED,
        reported_at=now,
    )
    if photo:
        request.photo = photo_shrink(photo, name_prefix=f"request-{household.pk}")
    request.save()
    RequestEvent.objects.create(
        request=request,
        actor=actor,
        at=now,
        action="report",
        from_status="",
        to_status=Status.REPORTED,
    )
    audit_record(
        actor=actor,
        action="request_report",
        instance=request,
        after=snapshot(request),
        village_id=request.village_id,
    )
    return request


@transaction.atomic
def request_triage(
    *,
    actor,
    request: Request,
    level: str,
    department: Department | None = None,
    handler=None,
    catalogue_item: CatalogueItem | None = None,
    category: RequestCategory | None = None,
    note: str = "",
) -> Request:
    """三事分流: accept or change the level; a 政事 goes to a township department with deadlines."""
    request = _locked(request)
    scope = scope_of(actor)
    _require(_staff_for(scope, request), _("只有本村或乡镇的工作人员可以分流"))
    _require_status(request, (Status.REPORTED,), _("分流"))
    if request.kind == Request.Kind.CONSULTATION:
        raise ValidationError(_("咨询类直接答复即可，不需要分流"))
    township = request.village.township
    errors = {}
    if level not in Level.values:
        errors["level"] = _("请选择办理层级")
    if level == Level.TOWNSHIP:
        if department is None:
            errors["department"] = _("政事必须指定承办部门")
        elif department.township_id != township.pk or not department.active:
            errors["department"] = _("该部门不属于本乡镇或已停用")
    elif department is not None:
        errors["department"] = _("只有政事才指定乡镇部门")
    if category is not None and category.township_id != township.pk:
        errors["category"] = _("类别不属于本乡镇")
    if catalogue_item is not None:
        # Re-read: the item may have left the list since the form was drawn.
        catalogue_item = CatalogueItem.objects.get(pk=catalogue_item.pk)
        if catalogue_item.township_id != township.pk:
            errors["catalogue_item"] = _("清单事项不属于本乡镇")
        elif level in {Level.GRID, Level.VILLAGE} and not catalogue_item.assignable_to_village:
            errors["catalogue_item"] = _("减负清单或已退出的事项不能交由村里办理")
    elif level == Level.VILLAGE and village_catalogue_exists(township_id=township.pk):
        errors["catalogue_item"] = _("交村里办理的事项须对应“三个清单”中的一项")
    if handler is not None and level == Level.VILLAGE:
        handler_scope = scope_of(handler)
        if not (
            handler_scope.role == Role.VILLAGE_STAFF
            and handler_scope.village_id == request.village_id
        ):
            errors["handler"] = _("经办人必须是本村工作人员")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    days = level_deadline_days(township=township, level=level, department=department)
    fields = {
        "level": level,
        "department": department,
        "handler": handler if level == Level.VILLAGE else None,
        "catalogue_item": catalogue_item,
        "triaged_at": now,
        "deadline": deadline_after(start=now, days=days),
        "ack_deadline": now + dt.timedelta(hours=department.ack_hours) if department else None,
        "acknowledged_at": None,
    }
    if category is not None:
        fields["category"] = category
    if not note and level != request.proposed_level:
        note = _("层级由“%(old)s”调整为“%(new)s”") % {
            "old": Level(request.proposed_level).label,
            "new": Level(level).label,
        }
    _transition(
        actor=actor,
        request=request,
        action="triage",
        to_status=Status.TRIAGED,
        note=note,
        fields=fields,
        now=now,
    )
    return request


@transaction.atomic
def request_acknowledge(*, actor, request: Request, note: str = "") -> Request:
    """部门报到: the assigned township department takes the request within its ack_hours."""
    request = _locked(request)
    _require(
        request.level == Level.TOWNSHIP and _is_department_member(actor, request.department_id),
        _("只有承办部门的经办人可以报到"),
    )
    _require_status(request, (Status.TRIAGED,), _("报到"))
    now = timezone.now()
    _transition(
        actor=actor,
        request=request,
        action="acknowledge",
        to_status=Status.ACKNOWLEDGED,
        note=note,
        fields={"acknowledged_at": now, "handler": actor},
        now=now,
    )
    return request


@transaction.atomic
def request_start(*, actor, request: Request, note: str = "") -> Request:
    """The handler starts work (a 政事 only after its department has acknowledged it)."""
    request = _locked(request)
    _require(_can_handle(actor, scope_of(actor), request), _("您不是该诉求的经办人"))
    allowed = (Status.ACKNOWLEDGED,) if request.level == Level.TOWNSHIP else (Status.TRIAGED,)
    if request.level == Level.TOWNSHIP and request.status == Status.TRIAGED:
        raise ValidationError(_("部门须先报到，再开始办理"))
    _require_status(request, allowed, _("开始办理"))
    _transition(
        actor=actor, request=request, action="start", to_status=Status.IN_PROGRESS, note=note
    )
    return request


@transaction.atomic
def request_add_progress(*, actor, request: Request, note: str) -> RequestEvent:
    """A progress note on the timeline; the status does not change."""
    request = _locked(request)
    _require(request_can_see(actor=actor, request=request), _("您无权在该诉求上添加进展"))
    _require_status(request, Request.OPEN_STATUSES, _("添加进展"))
    note = _clean_note(note, required=True, label=_("进展情况"))
    return _transition(
        actor=actor, request=request, action="progress", to_status=request.status, note=note
    )


@transaction.atomic
def request_link_meeting(*, actor, request: Request, meeting) -> RequestEvent:
    """Record that a request was taken to a meeting of its village (屋场会, 议事会…)."""
    from .models import RequestMeeting

    request = _locked(request)
    _require(_staff_for(scope_of(actor), request), _("只有本村或乡镇干部可以关联议事会议"))
    if meeting.village_id != request.village_id:
        raise ValidationError({"meeting": _("只能关联本村的会议")})
    if RequestMeeting.objects.filter(request=request, meeting=meeting).exists():
        raise ValidationError({"meeting": _("该诉求已关联这次会议")})
    RequestMeeting.objects.create(request=request, meeting=meeting, linked_by=actor)
    return _transition(
        actor=actor,
        request=request,
        action="meeting",
        to_status=request.status,
        note=_("提交会议：%(title)s") % {"title": meeting.title},
    )


@transaction.atomic
def request_resolve(
    *, actor, request: Request, note: str, mediation_agreement: str = ""
) -> Request:
    """办结: the handler at the current level resolves with a note."""
    request = _locked(request)
    _require(_can_handle(actor, scope_of(actor), request), _("您不是该诉求的经办人"))
    _require_status(request, (Status.IN_PROGRESS,), _("办结"))
    note = _clean_note(note, required=True, label=_("办理结果"))
    now = timezone.now()
    fields = {"resolved_at": now, "resolved_level": request.level}
    if mediation_agreement.strip():
        fields["mediation_agreement"] = mediation_agreement.strip()
    _transition(
        actor=actor,
        request=request,
        action="resolve",
        to_status=Status.RESOLVED,
        note=note,
        fields=fields,
        now=now,
    )
    return request


@transaction.atomic
def request_escalate(*, actor, request: Request, reason: str) -> Request:
    """网格吹哨: the handler sends the request one level up; it returns to the triage queue."""
    request = _locked(request)
    _require(_can_handle(actor, scope_of(actor), request), _("您不是该诉求的经办人"))
    _require_status(request, Request.HANDLING_STATUSES, _("上报"))
    if request.level == Level.TOWNSHIP:
        raise ValidationError(_("政事已在乡镇层级，不能再上报"))
    reason = _clean_note(reason, required=True, label=_("上报理由"))
    next_level = LEVEL_ORDER[LEVEL_ORDER.index(request.level) + 1]
    _transition(
        actor=actor,
        request=request,
        action="escalate",
        to_status=Status.REPORTED,
        note=reason,
        fields={
            "proposed_level": next_level,
            "level": "",
            "handler": None,
            "deadline": None,
            "escalated": True,
        },
    )
    return request


@transaction.atomic
def request_return(*, actor, request: Request, reason: str) -> Request:
    """部门退回: a department gives a request back to triage with its reason."""
    request = _locked(request)
    _require(
        request.level == Level.TOWNSHIP and _is_department_member(actor, request.department_id),
        _("只有承办部门的经办人可以退回"),
    )
    _require_status(request, Request.HANDLING_STATUSES, _("退回"))
    reason = _clean_note(reason, required=True, label=_("退回理由"))
    _transition(
        actor=actor,
        request=request,
        action="return",
        to_status=Status.REPORTED,
        note=reason,
        fields={
            "level": "",
            "department": None,
            "handler": None,
            "deadline": None,
            "ack_deadline": None,
            "acknowledged_at": None,
        },
    )
    return request


# A duplicate of a duplicate is refused when marked, but an original may be marked later on.
DUPLICATE_CHAIN_LIMIT = 10


@transaction.atomic
def return_visit_record(
    *, actor, request: Request, satisfaction: str, note: str = ""
) -> ReturnVisit:
    """回访: satisfied or basically satisfied closes the request; 不满意 reopens it.

    On a duplicate, the feedback goes to the original request: whoever may give feedback on the
    duplicate (its household's representative, its village's or township's staff) may give it
    there, and the duplicate's timeline notes where it went.
    """
    duplicate = None
    request = _locked(request)
    for _hop in range(DUPLICATE_CHAIN_LIMIT):
        if request.status != Status.DUPLICATE or not request.duplicate_of_id:
            break
        duplicate = duplicate or request
        request = _locked(Request(pk=request.duplicate_of_id))
    scope = scope_of(actor)
    _require(
        any(
            _representative_owns(scope, r) or _staff_for(scope, r)
            for r in (request, duplicate)
            if r is not None
        ),
        _("只有联户代表或村、乡镇工作人员可以回访"),
    )
    _require_status(request, (Status.RESOLVED,), _("回访"))
    if satisfaction not in Request.Satisfaction.values:
        raise ValidationError({"satisfaction": _("请选择满意度")})
    note = (note or "").strip()
    if duplicate is not None:
        note = _("（经重复件 #%(pk)s 回访）%(note)s") % {"pk": duplicate.pk, "note": note}
    now = timezone.now()
    visit = ReturnVisit.objects.create(
        request=request, by=actor, at=now, satisfaction=satisfaction, note=note
    )
    if satisfaction == Request.Satisfaction.UNSATISFIED:
        _transition(
            actor=actor,
            request=request,
            action="reopen",
            to_status=Status.IN_PROGRESS,
            note=note or _("群众不满意，重新办理"),
            fields={"satisfaction": satisfaction, "resolved_at": None, "resolved_level": ""},
            now=now,
        )
    else:
        _transition(
            actor=actor,
            request=request,
            action="return_visit",
            to_status=Status.CLOSED,
            note=note,
            fields={"satisfaction": satisfaction, "closed_at": now},
            now=now,
        )
    if duplicate is not None:
        _transition(
            actor=actor,
            request=duplicate,
            action="return_visit",
            to_status=Status.DUPLICATE,
            note=_("回访（%(s)s）已记到原诉求 #%(pk)s")
            % {"s": Request.Satisfaction(satisfaction).label, "pk": request.pk},
            now=now,
        )
    return visit


@transaction.atomic
def request_close(*, actor, request: Request, reason: str) -> Request:
    """Staff close a resolved request without a return visit (e.g. the resident cannot be reached)."""
    request = _locked(request)
    _require(_staff_for(scope_of(actor), request), _("只有村或乡镇工作人员可以关闭诉求"))
    _require_status(request, (Status.RESOLVED,), _("关闭"))
    reason = _clean_note(reason, required=True, label=_("关闭理由"))
    now = timezone.now()
    _transition(
        actor=actor,
        request=request,
        action="close",
        to_status=Status.CLOSED,
        note=reason,
        fields={"closed_at": now},
        now=now,
    )
    return request


@transaction.atomic
def consultation_answer(*, actor, request: Request, answer: str) -> Request:
    """咨询: answered and closed in one step by the representative or staff."""
    request = _locked(request)
    scope = scope_of(actor)
    _require(
        _representative_owns(scope, request) or _staff_for(scope, request),
        _("您无权答复该咨询"),
    )
    if request.kind != Request.Kind.CONSULTATION:
        raise ValidationError(_("只有咨询类可以直接答复关闭"))
    _require_status(request, (Status.REPORTED,), _("答复"))
    answer = _clean_note(answer, required=True, label=_("答复内容"))
    now = timezone.now()
    # Who answered decides where it was answered; a township answer without a department
    # stays a village-level record (township level always names a department).
    if scope.is_township and request.department_id:
        level = Level.TOWNSHIP
    elif scope.is_township or scope.role == Role.VILLAGE_STAFF:
        level = Level.VILLAGE
    else:
        level = Level.GRID
    _transition(
        actor=actor,
        request=request,
        action="answer",
        to_status=Status.CLOSED,
        note=answer,
        fields={
            "level": level,
            "resolved_at": now,
            "resolved_level": level,
            "closed_at": now,
        },
        now=now,
    )
    return request


@transaction.atomic
def request_mark_duplicate(
    *, actor, request: Request, original: Request, note: str = ""
) -> Request:
    """重复件: closes this one into ``original``; its feedback goes to the original."""
    # Lock both rows in id order so that two clerks merging opposite ways cannot deadlock.
    list(
        Request.objects.select_for_update()
        .filter(pk__in=[request.pk, original.pk])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    request = _locked(request)
    original = _locked(original)
    _require(_staff_for(scope_of(actor), request), _("只有村或乡镇工作人员可以标记重复"))
    if original.pk == request.pk:
        raise ValidationError({"original": _("不能标记为自身的重复")})
    if original.village.township_id != request.village.township_id:
        raise ValidationError({"original": _("原诉求不在本乡镇")})
    if original.status == Status.DUPLICATE:
        raise ValidationError({"original": _("原诉求本身是重复件，请选择最初的那一件")})
    _require_status(request, (Status.REPORTED, Status.TRIAGED), _("标记重复"))
    _transition(
        actor=actor,
        request=request,
        action="duplicate",
        to_status=Status.DUPLICATE,
        note=note or _("与 #%(pk)s 重复") % {"pk": original.pk},
        fields={"duplicate_of": original},
    )
    return request


@transaction.atomic
def supervision_add(*, actor, request: Request, note: str) -> Supervision:
    """督办: township staff add a note that the handler sees on the request."""
    request = _locked(request)
    _require(_township_staff_for(scope_of(actor), request), _("只有乡镇工作人员可以督办"))
    _require_status(request, Request.OPEN_STATUSES, _("督办"))
    note = _clean_note(note, required=True, label=_("督办意见"))
    now = timezone.now()
    supervision = Supervision.objects.create(request=request, by=actor, at=now, note=note)
    _transition(
        actor=actor,
        request=request,
        action="supervise",
        to_status=request.status,
        note=note,
        now=now,
    )
    return supervision


# --- departments and categories ---------------------------------------------------------------


@transaction.atomic
def _require_township_staff(actor, township_id: int, message: str) -> None:
    """What the township itself keeps (its departments, categories, 三个清单): its own staff and
    superusers, nobody else — not its villages, nor its departments."""
    scope = scope_of(actor)
    _require(
        scope.is_superuser
        or (scope.role == Role.TOWNSHIP_STAFF and scope.township_id == township_id),
        message,
    )


def department_create(
    *, actor, township: Township, name: str, ack_hours: int = 24, handle_days: int | None = None
) -> Department:
    """A township department; ``handle_days`` None follows the township's 政事 limit."""
    _require_township_staff(actor, township.pk, _("只有本乡镇的乡镇干部可以设置部门"))
    department = Department(
        township=township, name=name.strip(), ack_hours=ack_hours, handle_days=handle_days
    )
    return model_create(actor=actor, instance=department)


@transaction.atomic
def department_member_add(*, actor, department: Department, user) -> DepartmentMember:
    """Make ``user`` a handler of ``department`` (their scope becomes 部门经办人 of the township)."""
    from grids.services import scope_assign

    _require_township_staff(
        actor, department.township_id, _("只有本乡镇的乡镇干部可以设置部门经办人")
    )
    existing = scope_of(user)
    if existing.role and existing.role != Role.DEPARTMENT_HANDLER:
        raise ValidationError(_("该用户已有其他角色，不能兼任部门经办人"))
    scope_assign(actor=actor, user=user, role=Role.DEPARTMENT_HANDLER, township=department.township)
    if hasattr(user, "_user_scope"):
        del user._user_scope
    member, _created = DepartmentMember.objects.get_or_create(user=user, department=department)
    audit_record(
        actor=actor, action="department_member_add", instance=member, after=snapshot(member)
    )
    return member


@transaction.atomic
def request_category_create(*, actor, township: Township, name: str) -> RequestCategory:
    _require_township_staff(actor, township.pk, _("只有本乡镇的乡镇干部可以设置诉求类别"))
    return model_create(actor=actor, instance=RequestCategory(township=township, name=name.strip()))


# --- 三个清单 -----------------------------------------------------------------------------------


CATALOGUE_FIELDS = ["list_kind", "code", "title", "legal_basis", "added_on", "exited_on"]


def _require_catalogue_keeper(actor, township_id: int) -> None:
    # The lists bound the villages' work: the villages may not keep them themselves.
    _require_township_staff(actor, township_id, _("只有本乡镇的乡镇干部可以维护三个清单"))


def _catalogue_reason(reason: str, *, label: str) -> str:
    """The history says why each change was made, in the words of the person who made it."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写%(label)s") % {"label": label}})
    return reason


@transaction.atomic
def catalogue_item_add(
    *,
    actor,
    township: Township,
    list_kind: str,
    code: str,
    title: str,
    legal_basis: str = "",
    added_on: dt.date | None = None,
    reason: str = "",
) -> CatalogueItem:
    """Add an item to one of the township's 三个清单; the history records who added it and why."""
    _require_catalogue_keeper(actor, township.pk)
    item = CatalogueItem(
        township=township,
        list_kind=list_kind,
        code=code.strip(),
        title=title.strip(),
        legal_basis=legal_basis.strip(),
        added_on=added_on or timezone.localdate(),
    )
    model_create(actor=actor, instance=item)
    CatalogueChange.objects.create(
        item=item,
        action=CatalogueChange.Action.ADD,
        by=actor,
        reason=(reason or "").strip(),
        after=snapshot(item, CATALOGUE_FIELDS),
    )
    return item


@transaction.atomic
def catalogue_item_change(*, actor, item: CatalogueItem, reason: str, **data) -> CatalogueItem:
    """Change an item's list, title or basis; moving onto 减负 is refused while villages hold it."""
    _require_catalogue_keeper(actor, item.township_id)
    reason = _catalogue_reason(reason, label=_("调整理由"))
    item = CatalogueItem.objects.select_for_update().get(pk=item.pk)
    if item.exited_on is not None:
        raise ValidationError(_("已退出的事项不能再调整"))
    unknown = set(data) - {"list_kind", "title", "legal_basis"}
    if unknown:
        raise ValidationError(_("不能修改这些字段：%(f)s") % {"f": ", ".join(sorted(unknown))})
    if data.get("list_kind") == CatalogueItem.ListKind.BURDEN_RELIEF and (
        Request.objects.filter(catalogue_item=item, level__in=[Level.GRID, Level.VILLAGE])
        .filter(status__in=Request.HANDLING_STATUSES)
        .exists()
    ):
        raise ValidationError(_("仍有村里在办的诉求引用该事项，不能移入减负清单"))
    before = snapshot(item, CATALOGUE_FIELDS)
    for name, value in data.items():
        setattr(item, name, value.strip() if isinstance(value, str) else value)
    item.full_clean()
    item.save()
    CatalogueChange.objects.create(
        item=item,
        action=CatalogueChange.Action.CHANGE,
        by=actor,
        reason=reason,
        before=before,
        after=snapshot(item, CATALOGUE_FIELDS),
    )
    return item


@transaction.atomic
def catalogue_item_exit(
    *, actor, item: CatalogueItem, reason: str, exited_on: dt.date | None = None
) -> CatalogueItem:
    """Take an item off its list (kept, with the date and the reason, in the history)."""
    _require_catalogue_keeper(actor, item.township_id)
    reason = _catalogue_reason(reason, label=_("退出理由"))
    item = CatalogueItem.objects.select_for_update().get(pk=item.pk)
    if item.exited_on is not None:
        raise ValidationError(_("该事项已退出清单"))
    before = snapshot(item, CATALOGUE_FIELDS)
    item.exited_on = exited_on or timezone.localdate()
    item.full_clean()
    item.save()
    CatalogueChange.objects.create(
        item=item,
        action=CatalogueChange.Action.EXIT,
        by=actor,
        reason=reason,
        before=before,
        after=snapshot(item, CATALOGUE_FIELDS),
    )
    return item


# --- notices (上情下达) -------------------------------------------------------------------------


@transaction.atomic
def notice_publish(*, actor, title: str, body: str, village: Village | None = None) -> Notice:
    """上情下达: village staff publish to their village, township staff to a village or all."""
    scope = scope_of(actor)
    if village is not None:
        _require(scope.can_manage_village(village.pk), _("无权向该村发布通知"))
        township = village.township
    else:
        _require(
            scope.role == Role.TOWNSHIP_STAFF and scope.township_id is not None,
            _("只有乡镇工作人员可以向全镇发布通知"),
        )
        township = Township.objects.get(pk=scope.township_id)
    errors = {}
    if not (title or "").strip():
        errors["title"] = _("请填写标题")
    if not (body or "").strip():
        errors["body"] = _("请填写内容")
    if errors:
        raise ValidationError(errors)
    notice = Notice(
        township=township,
        village=village,
        title=title.strip(),
        body=body.strip(),
        published_by=actor,
        published_at=timezone.now(),
    )
    return model_create(actor=actor, instance=notice, village_id=village.pk if village else None)


@transaction.atomic
def notice_confirm(*, actor, notice: Notice, household: Household) -> NoticeDelivery:
    """A representative confirms the notice reached one of their households (idempotent)."""
    scope = scope_of(actor)
    _require(
        scope.is_representative and household.representative_id == scope.representative_id,
        _("只能确认自己联系户的送达"),
    )
    if notice.township_id != household.village.township_id or (
        notice.village_id is not None and notice.village_id != household.village_id
    ):
        raise ValidationError(_("该通知不是发给这户的"))
    delivery, created = NoticeDelivery.objects.get_or_create(
        notice=notice,
        household=household,
        defaults={"confirmed_by": actor, "confirmed_at": timezone.now()},
    )
    if created:
        audit_record(
            actor=actor,
            action="notice_confirm",
            instance=delivery,
            after=snapshot(delivery),
            village_id=household.village_id,
        )
    return delivery


# --- monthly work list (清单一月一制定) -----------------------------------------------------------


@transaction.atomic
def work_list_publish(
    *, actor, village, month: dt.date, items: list[tuple[str, CatalogueItem | None, bool]]
) -> WorkList:
    """Publish the village's list for ``month``: (title, catalogue item?, per household?) each."""
    _require(scope_of(actor).can_manage_village(village.pk), _("无权为该村发布工作清单"))
    month = month.replace(day=1)
    if WorkList.objects.filter(village=village, month=month).exists():
        raise ValidationError(_("%(m)s的工作清单已发布") % {"m": f"{month:%Y年%m月}"})
    if not items:
        raise ValidationError(_("工作清单至少要有一项"))
    # Re-read: an item may have left the list, or moved onto 减负, since the form was drawn.
    current = CatalogueItem.objects.in_bulk([item.pk for _t, item, _p in items if item])
    uncited = []
    for title, catalogue_item, _per in items:
        catalogue_item = current.get(catalogue_item.pk) if catalogue_item else None
        if catalogue_item is None:
            uncited.append(title.strip())
        elif (
            catalogue_item.township_id != village.township_id
            or not catalogue_item.assignable_to_village
        ):
            raise ValidationError(
                _("“%(item)s”在减负清单上或已退出，不能派给村里") % {"item": catalogue_item.title}
            )
    if uncited and village_catalogue_exists(township_id=village.township_id):
        raise ValidationError(
            _("每一项都须对应“三个清单”中可派给村里的一项，未选的有：%(titles)s")
            % {"titles": "、".join(uncited)}
        )
    work_list = WorkList.objects.create(
        village=village, month=month, published_by=actor, published_at=timezone.now()
    )
    WorkListItem.objects.bulk_create(
        WorkListItem(
            work_list=work_list, title=title.strip(), catalogue_item=item, per_household=per
        )
        for title, item, per in items
    )
    audit_record(
        actor=actor,
        action="work_list_publish",
        instance=work_list,
        after={"items": [title for title, _i, _p in items]},
        village_id=village.pk,
    )
    return work_list


@transaction.atomic
def work_item_mark_done(
    *, actor, item: WorkListItem, household: Household | None = None, grid: Grid | None = None
) -> WorkListDone:
    """A representative marks an item done for one household, or for their grid (idempotent)."""
    scope = scope_of(actor)
    _require(scope.is_representative, _("只有联户代表可以勾选完成"))
    if item.work_list.village_id != scope.village_id:
        raise ValidationError(_("该清单不是本村的"))
    if item.per_household:
        if household is None:
            raise ValidationError(_("该事项需要按户勾选"))
        _require(household.representative_id == scope.representative_id, _("只能勾选自己联系户"))
        done, created = WorkListDone.objects.get_or_create(
            item=item,
            household=household,
            defaults={"grid_id": household.grid_id, "by": actor, "at": timezone.now()},
        )
    else:
        grid_id = grid.pk if grid else scope.grid_id
        _require(grid_id == scope.grid_id, _("只能勾选自己的网格"))
        done, created = WorkListDone.objects.get_or_create(
            item=item,
            household=None,
            grid_id=grid_id,
            defaults={"by": actor, "at": timezone.now()},
        )
    if created:
        audit_record(
            actor=actor,
            action="work_item_done",
            instance=done,
            after=snapshot(done),
            village_id=item.work_list.village_id,
        )
    return done


# --- 邻里服务日 ------------------------------------------------------------------------------


@transaction.atomic
def service_day_set(*, actor, village: Village, week: int, weekday: int) -> ServiceDaySetting:
    """Set the village's 邻里服务日 (the ``week``-th ``weekday`` of each month); audited."""
    _require(scope_of(actor).can_manage_village(village.pk), _("无权设置该村的邻里服务日"))
    errors = {}
    if week not in ServiceDaySetting.Week.values:
        errors["week"] = _("请选择每月第几个")
    if weekday not in ServiceDaySetting.Weekday.values:
        errors["weekday"] = _("请选择星期几")
    if errors:
        raise ValidationError(errors)
    setting = ServiceDaySetting.objects.select_for_update().filter(village=village).first()
    before = snapshot(setting) if setting else None
    if setting is None:
        setting = ServiceDaySetting(village=village)
    setting.week, setting.weekday, setting.updated_by = week, weekday, actor
    setting.save()
    audit_record(
        actor=actor,
        action="service_day_set",
        instance=setting,
        before=before,
        after=snapshot(setting),
        village_id=village.pk,
    )
    return setting


@transaction.atomic
def request_export_record(*, actor, fmt: str, filters, rows: int):
    """Exports of personal data are audited too: who exported, when, which filter, how many rows.

    The row lands on the exporter's village (village staff) or township; a search typed into the
    filter is kept redacted, since staff sometimes search by 手机号.
    """
    scope = scope_of(actor)
    if scope.village_id:
        place = Village.objects.get(pk=scope.village_id)
    elif scope.township_id:
        place = Township.objects.get(pk=scope.township_id)
    else:
        place = actor
    chosen = {k: v for k, v in dataclasses.asdict(filters).items() if v not in (None, "", False)}
    if "search" in chosen:
        chosen["search"] = redact(str(chosen["search"]))
    return audit_record(
        actor=actor,
        action="request.export",
        instance=place,
        after={"format": fmt, "rows": rows, "filters": chosen},
        village_id=scope.village_id,
    )


@transaction.atomic
def report_export_record(*, actor, report: str, period: str, place: Village | Township, rows: int):
    """An Excel export of a report is audited like the request export: the monthly and quarterly
    tables name representatives. Who, when, which report, period and place, how many rows."""
    return audit_record(
        actor=actor,
        action="report.export",
        instance=place,
        after={"report": report, "period": period, "rows": rows},
        village_id=place.pk if isinstance(place, Village) else None,
    )

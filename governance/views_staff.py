"""Village and township staff pages under /staff/: triage, departments, 督办, 回访, exports."""

from __future__ import annotations

import csv
from io import BytesIO

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grids.access import UserScope, scope_of
from grids.models import Grid, Role
from grids.pii_logging import redact
from grids.selectors import visible_grids, visible_villages

from . import selectors, services
from .forms import (
    DuplicateForm,
    MeetingLinkForm,
    NoteForm,
    NoticeForm,
    RequestFilterForm,
    ResolveForm,
    ReturnVisitForm,
    TriageForm,
)
from .models import Notice, Request
from .view_helpers import apply_service_errors, int_param, original_context, refusal_reason

PAGE_SIZE = 30


def staff_scope(request: HttpRequest) -> UserScope:
    scope = scope_of(request.user)
    if not scope.is_staff_role:
        raise PermissionDenied
    return scope


def any_staff_scope(request: HttpRequest) -> UserScope:
    """Staff or a department handler."""
    scope = scope_of(request.user)
    if not (scope.is_staff_role or scope.is_department_handler):
        raise PermissionDenied
    return scope


@login_required
def index(request: HttpRequest) -> HttpResponse:
    scope = any_staff_scope(request)
    if scope.is_department_handler:
        return redirect("staff:department_queue")
    return redirect("staff:triage_queue")


def _filter_form(request: HttpRequest, scope: UserScope) -> RequestFilterForm:
    village_id = int_param(request, "village")
    if village_id is not None:
        grids = visible_grids(scope=scope, village_id=village_id)
    elif scope.village_id:
        # Village staff see one village: offer its grids straight away.
        grids = visible_grids(scope=scope, village_id=scope.village_id)
    else:
        grids = Grid.objects.none()
    return RequestFilterForm(
        request.GET or None,
        villages=visible_villages(scope=scope),
        grids=grids,
        categories=selectors.categories_for(township_id=scope.township_id, scope=scope),
    )


@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    """All requests in scope, filtered, paginated; the same filters drive the exports."""
    scope = staff_scope(request)
    form = _filter_form(request, scope)
    requests = selectors.request_list(scope=scope, filters=form.filters())
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "governance/staff/request_list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


EXPORT_HEADER = [
    _("编号"),
    _("反映时间"),
    _("村"),
    _("网格"),
    _("户号"),
    _("联户代表"),
    _("类型"),
    _("类别"),
    _("标题"),
    _("办理层级"),
    _("承办部门"),
    _("状态"),
    _("办理期限"),
    _("是否超期"),
    _("办结时间"),
    _("满意度"),
]


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _export_rows(requests):
    """Masked rows: no 身份证号/手机号, names masked, digits in free text redacted."""
    for r in requests.iterator(chunk_size=2000):
        yield [
            r.pk,
            _local(r.reported_at),
            r.village.name,
            r.grid.name if r.grid_id else "",
            r.household.number if r.household_id else "",
            r.representative.resident.masked_name if r.representative_id else "",
            r.get_kind_display(),
            r.category.name if r.category_id else "",
            redact(r.title),
            r.get_level_display() if r.level else "",
            r.department.name if r.department_id else "",
            r.get_status_display(),
            _local(r.deadline),
            _("是") if r.overdue else _("否"),
            _local(r.resolved_at),
            r.get_satisfaction_display() if r.satisfaction else "",
        ]


@login_required
def request_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """CSV or XLSX of the filtered list (masked personal information only)."""
    scope = staff_scope(request)
    form = _filter_form(request, scope)
    filters = form.filters()
    requests = selectors.request_list(scope=scope, filters=filters).select_related(
        "household", "representative__resident"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt in {"csv", "xlsx"}:
        services.request_export_record(
            actor=request.user, fmt=fmt, filters=filters, rows=requests.count()
        )
    if fmt == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="requests-{stamp}.csv"'
        # BOM: Excel on village office PCs otherwise opens UTF-8 Chinese as mojibake.
        response.write("\ufeff")
        writer = csv.writer(response)
        writer.writerow(EXPORT_HEADER)
        writer.writerows(_export_rows(requests))
        return response
    if fmt == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(_("诉求"))
        sheet.append(EXPORT_HEADER)
        for row in _export_rows(requests):
            sheet.append(row)
        buffer = BytesIO()
        workbook.save(buffer)
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="requests-{stamp}.xlsx"'
        return response
    raise Http404


@login_required
def triage_queue(request: HttpRequest) -> HttpResponse:
    scope = staff_scope(request)
    page = Paginator(selectors.triage_queue(scope=scope), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "governance/staff/triage_queue.html", {"page": page})


@login_required
def department_queue(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    if not (scope.is_department_handler or scope.is_superuser):
        raise PermissionDenied
    page = Paginator(selectors.department_queue(scope=scope), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "governance/staff/department_queue.html", {"page": page})


@login_required
def supervision_list(request: HttpRequest) -> HttpResponse:
    scope = staff_scope(request)
    if not scope.is_township:
        raise PermissionDenied
    page = Paginator(selectors.supervision_list(scope=scope), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "governance/staff/supervision_list.html", {"page": page})


@login_required
def return_visit_queue(request: HttpRequest) -> HttpResponse:
    scope = staff_scope(request)
    page = Paginator(selectors.return_visit_queue(scope=scope), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "governance/staff/return_visit_queue.html", {"page": page})


@login_required
def duplicate_list(request: HttpRequest) -> HttpResponse:
    scope = staff_scope(request)
    page = Paginator(selectors.duplicate_list(scope=scope), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "governance/staff/duplicate_list.html", {"page": page})


def _staff_request(scope: UserScope, pk: int) -> Request:
    try:
        return selectors.request_detail(scope=scope, request_id=pk)
    except Request.DoesNotExist as exc:
        raise Http404 from exc


def _triage_form(scope: UserScope, item: Request, data=None) -> TriageForm:
    township_id = item.village.township_id
    return TriageForm(
        data,
        departments=selectors.departments_for(scope=scope).filter(township_id=township_id),
        handlers=selectors.village_handlers(village_id=item.village_id),
        catalogue=selectors.catalogue_for_villages(township_id=township_id),
        categories=selectors.categories_for(township_id=township_id),
        initial={"level": item.proposed_level, "category": item.category_id},
    )


def _detail_context(scope: UserScope, item: Request, **forms) -> dict:
    Status = Request.Status
    # Grid leaders may read the pages; triage and handling belong to village and township staff.
    staff = scope.is_superuser or scope.role in {Role.VILLAGE_STAFF, Role.TOWNSHIP_STAFF}
    department = scope.is_department_handler and item.level == Request.Level.TOWNSHIP
    handler = department if item.level == Request.Level.TOWNSHIP else staff
    original = original_context(scope, item, detail_url="staff:request_detail")
    context = {
        **original,
        "item": item,
        "can_triage": staff
        and item.status == Status.REPORTED
        and item.kind != Request.Kind.CONSULTATION,
        "can_answer": staff
        and item.status == Status.REPORTED
        and item.kind == Request.Kind.CONSULTATION,
        "can_acknowledge": department and item.status == Status.TRIAGED,
        "can_start": handler
        and (
            item.status == Status.ACKNOWLEDGED
            if item.level == Request.Level.TOWNSHIP
            else item.status == Status.TRIAGED
        ),
        "can_resolve": handler and item.status == Status.IN_PROGRESS,
        "can_escalate": staff
        and item.level in {Request.Level.GRID, Request.Level.VILLAGE}
        and item.status in Request.HANDLING_STATUSES,
        "can_return": department and item.status in Request.HANDLING_STATUSES,
        "can_return_visit": staff
        and (item.status == Status.RESOLVED or original["feedback_to_original"]),
        "can_close": staff and item.status == Status.RESOLVED,
        "can_duplicate": staff and item.status in {Status.REPORTED, Status.TRIAGED},
        "can_supervise": scope.is_township and item.is_open,
        "can_link_meeting": staff,
        "meetings": [link.meeting for link in item.meeting_links.select_related("meeting")],
        "can_progress": item.is_open,
        "triage_form": _triage_form(scope, item)
        if staff and item.status == Status.REPORTED
        else None,
        "progress_form": NoteForm(label=_("进展情况")),
        "resolve_form": ResolveForm(label=_("办理结果")),
        "escalate_form": NoteForm(label=_("上报理由")),
        "return_form": NoteForm(label=_("退回理由")),
        "answer_form": NoteForm(label=_("答复内容")),
        "close_form": NoteForm(label=_("关闭理由")),
        "supervise_form": NoteForm(label=_("督办意见")),
        "acknowledge_form": NoteForm(label=_("报到说明"), required=False),
        "return_visit_form": ReturnVisitForm(),
        "duplicate_form": DuplicateForm(),
        "meeting_form": MeetingLinkForm(),
    }
    context.update(forms)
    return context


@login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scope = any_staff_scope(request)
    item = _staff_request(scope, pk)
    return render(request, "governance/staff/request_detail.html", _detail_context(scope, item))


# action → (form key in the template, label for a NoteForm)
NOTE_ACTIONS = {
    "progress": _("进展情况"),
    "escalate": _("上报理由"),
    "return": _("退回理由"),
    "answer": _("答复内容"),
    "close": _("关闭理由"),
    "supervise": _("督办意见"),
    "acknowledge": _("报到说明"),
}


def _bind_form(scope: UserScope, item: Request, action: str, post):
    if action == "triage":
        return _triage_form(scope, item, post)
    if action == "resolve":
        return ResolveForm(post, label=_("办理结果"))
    if action == "return_visit":
        return ReturnVisitForm(post)
    if action == "duplicate":
        return DuplicateForm(post)
    if action == "meeting":
        return MeetingLinkForm(post)
    if action in NOTE_ACTIONS:
        return NoteForm(post, label=NOTE_ACTIONS[action], required=action != "acknowledge")
    return None


def _run(actor, scope: UserScope, item: Request, action: str, data: dict) -> None:
    """The one service call behind each button on the staff request page."""
    if action == "triage":
        services.request_triage(
            actor=actor,
            request=item,
            level=data["level"],
            department=data.get("department"),
            handler=data.get("handler"),
            catalogue_item=data.get("catalogue_item"),
            category=data.get("category"),
            note=data.get("note", ""),
        )
    elif action == "acknowledge":
        services.request_acknowledge(actor=actor, request=item, note=data.get("note", ""))
    elif action == "start":
        services.request_start(actor=actor, request=item)
    elif action == "progress":
        services.request_add_progress(actor=actor, request=item, note=data["note"])
    elif action == "resolve":
        services.request_resolve(
            actor=actor,
            request=item,
            note=data["note"],
            mediation_agreement=data.get("mediation_agreement", ""),
        )
    elif action == "escalate":
        services.request_escalate(actor=actor, request=item, reason=data["note"])
    elif action == "return":
        services.request_return(actor=actor, request=item, reason=data["note"])
    elif action == "answer":
        services.consultation_answer(actor=actor, request=item, answer=data["note"])
    elif action == "close":
        services.request_close(actor=actor, request=item, reason=data["note"])
    elif action == "supervise":
        services.supervision_add(actor=actor, request=item, note=data["note"])
    elif action == "return_visit":
        services.return_visit_record(
            actor=actor, request=item, satisfaction=data["satisfaction"], note=data["note"]
        )
    elif action == "duplicate":
        try:
            original = selectors.request_original_for(scope=scope, request_id=data["original"])
        except Request.DoesNotExist as exc:
            raise ValidationError({"original": _("找不到该编号的诉求")}) from exc
        services.request_mark_duplicate(
            actor=actor, request=item, original=original, note=data.get("note", "")
        )
    elif action == "meeting":
        from deliberation.models import Meeting

        meeting = Meeting.objects.filter(pk=data["meeting"], village_id=item.village_id).first()
        if meeting is None:
            raise ValidationError({"meeting": _("本村没有这个编号的会议")})
        services.request_link_meeting(actor=actor, request=item, meeting=meeting)
    else:
        raise Http404


STAFF_ACTIONS = {
    "triage",
    "acknowledge",
    "start",
    "progress",
    "resolve",
    "escalate",
    "return",
    "answer",
    "close",
    "supervise",
    "return_visit",
    "duplicate",
    "meeting",
}


@login_required
@require_POST
def request_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    scope = any_staff_scope(request)
    if action not in STAFF_ACTIONS:
        raise Http404
    item = _staff_request(scope, pk)
    form = _bind_form(scope, item, action, request.POST)
    key = f"{action}_form"
    if form is not None and not form.is_valid():
        return render(
            request,
            "governance/staff/request_detail.html",
            _detail_context(scope, item, **{key: form}),
            status=400,
        )
    try:
        _run(request.user, scope, item, action, form.cleaned_data if form is not None else {})
    except PermissionDenied as exc:
        # The page stays, with what was typed, and says why the service refused.
        messages.error(request, refusal_reason(exc))
        return render(
            request,
            "governance/staff/request_detail.html",
            _detail_context(scope, item, **({key: form} if form is not None else {})),
            status=403,
        )
    except ValidationError as exc:
        if form is None:
            messages.error(request, " ".join(exc.messages))
            return redirect("staff:request_detail", pk=pk)
        apply_service_errors(form, exc)
        return render(
            request,
            "governance/staff/request_detail.html",
            _detail_context(scope, item, **{key: form}),
            status=400,
        )
    if action == "return_visit" and item.status == Request.Status.DUPLICATE:
        messages.success(request, _("回访已记到原诉求 #%(pk)s") % {"pk": item.duplicate_of_id})
    else:
        messages.success(request, _("已保存"))
    if action == "triage":
        return redirect("staff:triage_queue")
    return redirect("staff:request_detail", pk=pk)


@login_required
def notice_list(request: HttpRequest) -> HttpResponse:
    """上情下达: publish a notice; see how many households representatives have reached."""
    scope = staff_scope(request)
    villages = visible_villages(scope=scope)
    allow_township = scope.is_township
    if request.method == "POST":
        form = NoticeForm(request.POST, villages=villages, allow_township=allow_township)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.notice_publish(
                    actor=request.user,
                    title=data["title"],
                    body=data["body"],
                    village=data.get("village"),
                )
            except PermissionDenied as exc:
                form.add_error(None, refusal_reason(exc))
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("通知已发布"))
                return redirect("staff:notice_list")
    else:
        form = NoticeForm(villages=villages, allow_township=allow_township)
    page = Paginator(selectors.notice_coverage(scope=scope), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "governance/staff/notice_list.html", {"form": form, "page": page})


@login_required
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One notice's coverage: village by village (a township notice) and grid by grid."""
    scope = staff_scope(request)
    try:
        notice, villages = selectors.notice_breakdown(scope=scope, notice_id=pk)
    except Notice.DoesNotExist as exc:
        raise Http404 from exc
    return render(
        request, "governance/staff/notice_detail.html", {"notice": notice, "villages": villages}
    )


@login_required
def service_day(request: HttpRequest) -> HttpResponse:
    """邻里服务日: the 点单 for one service day per representative, one printable page each; the
    village's day of the month can be set here."""
    from .forms import ServiceDayForm, parse_day

    scope = staff_scope(request)
    villages = visible_villages(scope=scope)
    source = request.POST if request.method == "POST" else request.GET
    village_id = int_param(request, "village", post=request.method == "POST")
    village = None
    if village_id is not None:
        village = villages.filter(pk=village_id).first()
    if village is None and scope.village_id:
        village = villages.filter(pk=scope.village_id).first()
    plan = groups = None
    form = None
    if village is not None:
        plan = selectors.service_day_plan(village_id=village.pk, day=parse_day(source.get("day")))
        if request.method == "POST":
            form = ServiceDayForm(request.POST)
            if form.is_valid():
                try:
                    services.service_day_set(
                        actor=request.user,
                        village=village,
                        week=form.cleaned_data["week"],
                        weekday=form.cleaned_data["weekday"],
                    )
                except PermissionDenied as exc:
                    form.add_error(None, refusal_reason(exc))
                except ValidationError as exc:
                    apply_service_errors(form, exc)
                else:
                    messages.success(request, _("邻里服务日已设置"))
                    return redirect(f"{reverse('staff:service_day')}?village={village.pk}")
        else:
            form = ServiceDayForm(initial={"week": plan.week, "weekday": plan.weekday})
        groups = selectors.service_day_orders(scope=scope, village_id=village.pk, day=plan.day)
    return render(
        request,
        "governance/staff/service_day.html",
        {
            "villages": villages,
            "village": village,
            "groups": groups or [],
            "plan": plan,
            "form": form,
            "can_set": village is not None and scope.can_manage_village(village.pk),
        },
        status=400 if form is not None and form.is_bound and not form.is_valid() else 200,
    )


@login_required
def work_lists(request: HttpRequest) -> HttpResponse:
    """清单一月一制定: publish this month's items for a village; see what is marked done."""
    from .forms import WorkListForm, WorkListItemFormSet

    scope = staff_scope(request)
    villages = visible_villages(scope=scope)
    catalogue = selectors.catalogue_for_villages(township_id=scope.township_id)
    # Read once for all rows of the formset (each row would otherwise query it for its <select>).
    catalogue_items = list(catalogue)
    item_kwargs = {
        "catalogue": catalogue,
        "choices": [("", "—"), *((c.pk, f"{c.code} {c.title}") for c in catalogue_items)],
        "require_citation": bool(catalogue_items),
    }
    if request.method == "POST":
        form = WorkListForm(request.POST, villages=villages)
        formset = WorkListItemFormSet(request.POST, form_kwargs=item_kwargs)
        if form.is_valid() and formset.is_valid():
            items = [
                (row["title"], row.get("catalogue_item"), bool(row.get("per_household")))
                for row in formset.cleaned_data
                if (row.get("title") or "").strip()
            ]
            try:
                services.work_list_publish(
                    actor=request.user,
                    village=form.cleaned_data["village"],
                    month=form.cleaned_data["month"],
                    items=items,
                )
            except PermissionDenied as exc:
                form.add_error(None, refusal_reason(exc))
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("工作清单已发布"))
                return redirect("staff:work_lists")
    else:
        form = WorkListForm(
            villages=villages, initial={"month": timezone.localdate().strftime("%Y-%m")}
        )
        formset = WorkListItemFormSet(form_kwargs=item_kwargs)
    page = Paginator(selectors.work_lists_for(scope=scope), 12).get_page(request.GET.get("page"))
    return render(
        request,
        "governance/staff/work_lists.html",
        {
            "form": form,
            "formset": formset,
            "page": page,
            "progress": selectors.work_list_progress(work_lists=list(page)),
        },
    )

"""The representative's phone pages under /rep/: one thumb, poor signal, no JavaScript needed."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grids.access import UserScope, scope_of
from grids.models import Household, Visit
from grids.services import visit_record

from . import selectors, services
from .forms import NoteForm, RequestReportForm, ResolveForm, ReturnVisitForm, VisitForm
from .models import Notice, Request, WorkListItem
from .view_helpers import apply_service_errors, int_param, original_context, refusal_reason

# A notice lists every household of mine (up to 15): ten notices keep the page light on a phone.
NOTICES_PER_PAGE = 10


def rep_scope(request: HttpRequest) -> UserScope:
    scope = scope_of(request.user)
    if not scope.is_representative or scope.representative_id is None:
        raise PermissionDenied
    return scope


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """My households (priority first, then longest unvisited), open requests, this month's list."""
    scope = rep_scope(request)
    households = selectors.rep_households(scope=scope)
    return render(
        request,
        "governance/rep/home.html",
        {
            "households": households,
            "overdue_visits": sum(1 for row in households if row.visit_overdue),
            "open_requests": selectors.rep_open_requests(scope=scope),
            "work_items": selectors.rep_work_list(scope=scope),
            "month": selectors.month_start(),
        },
    )


@login_required
def visit_new(request: HttpRequest) -> HttpResponse:
    scope = rep_scope(request)
    households = selectors.rep_household_choices(scope=scope)
    if request.method == "POST":
        form = VisitForm(request.POST, request.FILES, households=households)
        if form.is_valid():
            data = form.cleaned_data
            representative = selectors.rep_representative(scope=scope)
            try:
                visit = visit_record(
                    actor=request.user,
                    representative=representative,
                    household=data["household"],
                    method=data["method"],
                    note=data["note"],
                    latitude=data.get("latitude"),
                    longitude=data.get("longitude"),
                    photo=data.get("photo"),
                )
            except PermissionDenied as exc:
                form.add_error(None, refusal_reason(exc))
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("走访已记录"))
                return redirect("rep:visit_done", pk=visit.pk)
    else:
        form = VisitForm(
            households=households, initial={"household": int_param(request, "household")}
        )
    return render(request, "governance/rep/visit_form.html", {"form": form})


@login_required
def visit_done(request: HttpRequest, pk: int) -> HttpResponse:
    """After a visit: record zero or more requests for that household, or go back home."""
    scope = rep_scope(request)
    try:
        visit = selectors.rep_visit(scope=scope, visit_id=pk)
    except Visit.DoesNotExist as exc:
        raise Http404 from exc
    recorded = selectors.visit_requests(scope=scope, visit=visit)
    return render(
        request,
        "governance/rep/visit_done.html",
        {
            "visit": visit,
            "recorded": recorded,
            "work_items": selectors.rep_work_list(scope=scope, household_id=visit.household_id),
            "month": selectors.month_start(),
        },
    )


@login_required
def request_new(request: HttpRequest) -> HttpResponse:
    scope = rep_scope(request)
    households = selectors.rep_household_choices(scope=scope)
    categories = selectors.categories_for(township_id=scope.township_id)
    visit = None
    visit_id = int_param(request, "visit")
    if visit_id:
        try:
            visit = selectors.rep_visit(scope=scope, visit_id=visit_id)
        except Visit.DoesNotExist as exc:
            raise Http404 from exc
    if request.method == "POST":
        form = RequestReportForm(
            request.POST, request.FILES, households=households, categories=categories
        )
        if form.is_valid():
            data = form.cleaned_data
            try:
                created = services.request_report(
                    actor=request.user,
                    household=data["household"],
                    kind=data["kind"],
                    category=data["category"],
                    title=data["title"],
                    description=data["description"],
                    proposed_level=data["proposed_level"],
                    photo=data.get("photo"),
                    source_visit=visit
                    if visit and visit.household_id == data["household"].pk
                    else None,
                    dispute_parties=data["dispute_parties"],
                    mediators=data["mediators"],
                    mediation_agreement=data["mediation_agreement"],
                )
            except PermissionDenied as exc:
                form.add_error(None, refusal_reason(exc))
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("已登记：%(title)s") % {"title": created.title})
                if visit is not None:
                    return redirect("rep:visit_done", pk=visit.pk)
                return redirect("rep:request_detail", pk=created.pk)
    else:
        household_id = visit.household_id if visit else int_param(request, "household")
        form = RequestReportForm(
            households=households, categories=categories, initial={"household": household_id}
        )
    return render(request, "governance/rep/request_form.html", {"form": form, "visit": visit})


@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    scope = rep_scope(request)
    from django.core.paginator import Paginator

    page = Paginator(selectors.rep_requests(scope=scope), 30).get_page(request.GET.get("page"))
    return render(request, "governance/rep/request_list.html", {"page": page})


def _rep_request(scope: UserScope, pk: int) -> Request:
    try:
        return selectors.request_detail(scope=scope, request_id=pk)
    except Request.DoesNotExist as exc:
        raise Http404 from exc


@login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Timeline, 督办 notes, and the actions open to me on this request."""
    scope = rep_scope(request)
    item = _rep_request(scope, pk)
    return render(request, "governance/rep/request_detail.html", _detail_context(scope, item))


def _detail_context(scope: UserScope, item: Request, **forms) -> dict:
    grid_level = item.level == Request.Level.GRID
    original = original_context(scope, item, detail_url="rep:request_detail")
    context = {
        **original,
        "item": item,
        "can_start": grid_level and item.status == Request.Status.TRIAGED,
        "can_resolve": grid_level and item.status == Request.Status.IN_PROGRESS,
        "can_escalate": grid_level and item.status in Request.HANDLING_STATUSES,
        "can_return_visit": item.status == Request.Status.RESOLVED
        or original["feedback_to_original"],
        "can_answer": item.kind == Request.Kind.CONSULTATION
        and item.status == Request.Status.REPORTED,
        "can_progress": item.is_open,
        "progress_form": NoteForm(label=_("进展情况")),
        "resolve_form": ResolveForm(label=_("办理结果")),
        "escalate_form": NoteForm(label=_("上报理由")),
        "answer_form": NoteForm(label=_("答复内容")),
        "return_visit_form": ReturnVisitForm(),
    }
    context.update(forms)
    return context


# action → (form class, form label, form's name in the template context)
REP_ACTIONS = {
    "progress": (NoteForm, _("进展情况"), "progress_form"),
    "start": (None, None, None),
    "resolve": (ResolveForm, _("办理结果"), "resolve_form"),
    "escalate": (NoteForm, _("上报理由"), "escalate_form"),
    "answer": (NoteForm, _("答复内容"), "answer_form"),
    "return_visit": (ReturnVisitForm, None, "return_visit_form"),
}


def run_request_action(*, actor, item: Request, action: str, data: dict):
    """The one service call behind each button on a request page."""
    if action == "progress":
        return services.request_add_progress(actor=actor, request=item, note=data["note"])
    if action == "start":
        return services.request_start(actor=actor, request=item)
    if action == "resolve":
        return services.request_resolve(
            actor=actor,
            request=item,
            note=data["note"],
            mediation_agreement=data.get("mediation_agreement", ""),
        )
    if action == "escalate":
        return services.request_escalate(actor=actor, request=item, reason=data["note"])
    if action == "answer":
        return services.consultation_answer(actor=actor, request=item, answer=data["note"])
    if action == "return_visit":
        return services.return_visit_record(
            actor=actor, request=item, satisfaction=data["satisfaction"], note=data["note"]
        )
    raise Http404


@login_required
@require_POST
def request_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    scope = rep_scope(request)
    if action not in REP_ACTIONS:
        raise Http404
    item = _rep_request(scope, pk)
    form_class, label, key = REP_ACTIONS[action]
    form = None
    data: dict = {}
    if form_class is not None:
        form = form_class(request.POST, label=label) if label else form_class(request.POST)
        if not form.is_valid():
            return render(
                request,
                "governance/rep/request_detail.html",
                _detail_context(scope, item, **{key: form}),
                status=400,
            )
        data = form.cleaned_data
    try:
        run_request_action(actor=request.user, item=item, action=action, data=data)
    except PermissionDenied as exc:
        # The page stays, with what was typed, and says why the service refused.
        messages.error(request, refusal_reason(exc))
        return render(
            request,
            "governance/rep/request_detail.html",
            _detail_context(scope, item, **({key: form} if form is not None else {})),
            status=403,
        )
    except ValidationError as exc:
        if form is None:
            messages.error(request, " ".join(exc.messages))
            return redirect("rep:request_detail", pk=pk)
        apply_service_errors(form, exc)
        return render(
            request,
            "governance/rep/request_detail.html",
            _detail_context(scope, item, **{key: form}),
            status=400,
        )
    if action == "return_visit" and item.status == Request.Status.DUPLICATE:
        messages.success(request, _("回访已记到原诉求 #%(pk)s") % {"pk": item.duplicate_of_id})
    else:
        messages.success(request, _("已保存"))
    return redirect("rep:request_detail", pk=pk)


@login_required
def notice_list(request: HttpRequest) -> HttpResponse:
    scope = rep_scope(request)
    from django.core.paginator import Paginator

    page = Paginator(selectors.rep_notice_list(scope=scope), NOTICES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "governance/rep/notice_list.html",
        {
            "page": page,
            "notices": selectors.rep_notice_rows(scope=scope, notices=list(page)),
        },
    )


@login_required
@require_POST
def notice_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    scope = rep_scope(request)
    try:
        notice = selectors.rep_notice(scope=scope, notice_id=pk)
        household = selectors.rep_household(
            scope=scope, household_id=int_param(request, "household", post=True) or 0
        )
    except (Notice.DoesNotExist, Household.DoesNotExist) as exc:
        raise Http404 from exc
    try:
        services.notice_confirm(actor=request.user, notice=notice, household=household)
    except PermissionDenied as exc:
        messages.error(request, refusal_reason(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    # Back to the page the notice was on, at the notice.
    page = int_param(request, "page", post=True)
    query = f"?page={page}" if page and page > 1 else ""
    return redirect(reverse("rep:notice_list") + f"{query}#notice-{notice.pk}")


@login_required
@require_POST
def work_item_done(request: HttpRequest, pk: int) -> HttpResponse:
    scope = rep_scope(request)
    try:
        item = selectors.rep_work_item(scope=scope, item_id=pk)
        household = None
        if item.per_household:
            household = selectors.rep_household(
                scope=scope, household_id=int_param(request, "household", post=True) or 0
            )
    except (WorkListItem.DoesNotExist, Household.DoesNotExist) as exc:
        raise Http404 from exc
    try:
        services.work_item_mark_done(actor=request.user, item=item, household=household)
    except PermissionDenied as exc:
        messages.error(request, refusal_reason(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已勾选完成"))
    # Ticked during a visit: back to that visit's page (only one of my own visits).
    visit_id = int_param(request, "visit", post=True)
    if visit_id is not None:
        try:
            visit = selectors.rep_visit(scope=scope, visit_id=visit_id)
        except Visit.DoesNotExist:
            pass
        else:
            return redirect(reverse("rep:visit_done", args=[visit.pk]) + "#work-list")
    return redirect("rep:home")

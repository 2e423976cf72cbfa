"""Pages: parse the request, call one service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grids.access import UserScope, scope_of
from grids.models import Household, Resident
from grids.request_meta import client_address
from grids.validators import clean_text, parse_id, parse_ids

from . import forms, selectors, services
from .models import Article, Body, Meeting, Motion, RuleVersion


def _staff(request: HttpRequest) -> UserScope:
    scope = scope_of(request.user)
    if not scope.is_staff_role:
        raise PermissionDenied
    return scope


def _service_errors(form, exc: ValidationError) -> None:
    """Put a service's refusal next to the field it names, or on top of the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _flash_errors(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _int_param(request: HttpRequest, name: str) -> int | None:
    return parse_id(request.GET.get(name, ""))


def _path_id(value: str) -> int:
    number = parse_id(value)
    if number is None:
        raise Http404
    return number


# --- bodies ------------------------------------------------------------------------------


@login_required
def body_list(request: HttpRequest) -> HttpResponse:
    scope = _staff(request)
    village_id = _int_param(request, "village")
    return render(
        request,
        "deliberation/body_list.html",
        {
            "bodies": selectors.body_list(scope=scope, village_id=village_id),
            "villages": scope.villages(),
            "village_id": village_id,
        },
    )


@login_required
def body_create(request: HttpRequest) -> HttpResponse:
    scope = _staff(request)
    form = forms.BodyForm(
        request.POST or None,
        villages=scope.villages(),
        grids=scope.grids().select_related("village"),
    )
    if request.method == "POST" and form.is_valid():
        try:
            body = services.body_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            return redirect("deliberation:body_detail", pk=body.pk)
    return render(
        request, "deliberation/meeting_action.html", {"form": form, "title": _("新建议事机构")}
    )


@login_required
def body_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Members (add, end), and a council's quorum and majority: three forms on one page."""
    scope = _staff(request)
    body = selectors.body_get(scope=scope, pk=pk)
    residents = Resident.objects.filter(
        household__village_id=body.village_id, status__in=selectors.LIVING
    ).select_related("household")
    posted = request.POST if request.method == "POST" else None
    is_rules = posted is not None and "rules-quorum_numerator" in posted
    is_end = posted is not None and "end-membership" in posted
    is_add = posted is not None and not (is_rules or is_end)
    rules_form = forms.BodyRulesForm(
        posted if is_rules else None,
        prefix="rules",
        initial={f: getattr(body, f) for f in forms.BodyRulesForm.base_fields},
    )
    form = forms.MemberForm(posted if is_add else None, residents=residents)
    end_form = forms.MembershipEndForm(
        posted if is_end else None,
        prefix="end",
        memberships=selectors.body_active_memberships(body=body),
    )
    if is_end and end_form.is_valid():
        membership = end_form.cleaned_data["membership"]
        try:
            services.membership_end(
                actor=request.user,
                membership=membership,
                left_on=end_form.cleaned_data["left_on"],
            )
        except ValidationError as exc:
            _service_errors(end_form, exc)
        else:
            messages.success(
                request,
                _("%(name)s已退出%(body)s") % {"name": membership.resident.name, "body": body.name},
            )
            return redirect("deliberation:body_detail", pk=body.pk)
    elif is_rules and rules_form.is_valid():
        try:
            services.body_rules_update(actor=request.user, body=body, **rules_form.cleaned_data)
        except ValidationError as exc:
            _service_errors(rules_form, exc)
        else:
            messages.success(request, _("表决规则已更新"))
            return redirect("deliberation:body_detail", pk=body.pk)
    elif is_add and form.is_valid():
        try:
            services.membership_add(
                actor=request.user,
                body=body,
                resident=form.cleaned_data["resident"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, _("已添加成员"))
            return redirect("deliberation:body_detail", pk=body.pk)
    return render(
        request,
        "deliberation/body_detail.html",
        {"body": body, "form": form, "rules_form": rules_form, "end_form": end_form},
    )


# --- meetings ----------------------------------------------------------------------------


@login_required
def meeting_list(request: HttpRequest) -> HttpResponse:
    scope = _staff(request)
    village_id = _int_param(request, "village")
    meetings = selectors.meeting_list(scope=scope, village_id=village_id)[:100]
    return render(
        request,
        "deliberation/meeting_list.html",
        {
            "meetings": meetings,
            # A household ballot has no meeting: without this list it could not be found again.
            "ballots": selectors.household_ballots(scope=scope, village_id=village_id)[:20],
            "villages": scope.villages(),
            "village_id": village_id,
        },
    )


@login_required
def meeting_create(request: HttpRequest) -> HttpResponse:
    scope = _staff(request)
    villages = scope.villages()
    form = forms.MeetingForm(
        request.POST or None,
        villages=villages,
        bodies=Body.objects.filter(village__in=villages).select_related("village"),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            meeting = services.meeting_create(
                actor=request.user,
                village=data["village"],
                body=data["body"],
                kind=data["kind"],
                title=data["title"],
                venue=data["venue"],
                venue_name=data["venue_name"],
                scheduled_at=data["scheduled_at"],
                urgent=data["urgent"],
                notice_text=data["notice_text"],
                agenda=form.agenda_lines,
            )
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            return redirect("deliberation:meeting_detail", pk=meeting.pk)
    return render(request, "deliberation/meeting_form.html", {"form": form})


@login_required
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The meeting, and a form to add an agenda item while it has not been held."""
    scope = _staff(request)
    meeting = selectors.meeting_get(scope=scope, pk=pk, with_requests=True)
    agenda_form = forms.AgendaItemForm(request.POST or None, prefix="agenda")
    if request.method == "POST" and agenda_form.is_valid():
        try:
            services.agenda_item_add(
                actor=request.user, meeting=meeting, **agenda_form.cleaned_data
            )
        except ValidationError as exc:
            _service_errors(agenda_form, exc)
        else:
            messages.success(request, _("已增加议题"))
            return redirect("deliberation:meeting_detail", pk=pk)
    return render(
        request,
        "deliberation/meeting_detail.html",
        {
            "meeting": meeting,
            "agenda_form": agenda_form,
            "request_links": getattr(meeting, "visible_request_links", []),
            "attendance_count": meeting.attendances.count(),
            "conclude_form": forms.ConcludeForm(),
            "cancel_form": forms.CancelForm(),
            "photo_form": forms.PhotoForm(),
            "motion_form": forms.MotionForm(),
        },
    )


@login_required
def meeting_photo_add(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = selectors.meeting_get(scope=_staff(request), pk=pk)
    form = forms.PhotoForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_photo_add(
                actor=request.user,
                meeting=meeting,
                photo=form.cleaned_data["photo"],
                caption=form.cleaned_data["caption"],
            )
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, _("照片已上传"))
            return redirect("deliberation:meeting_detail", pk=pk)
    return render(
        request,
        "deliberation/meeting_action.html",
        {"meeting": meeting, "form": form, "title": _("上传会议照片"), "multipart": True},
    )


@login_required
@require_POST
def meeting_announce(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = selectors.meeting_get(scope=_staff(request), pk=pk)
    try:
        services.meeting_announce(actor=request.user, meeting=meeting)
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, _("会议通知已发布"))
    return redirect("deliberation:meeting_detail", pk=pk)


@login_required
def meeting_conclude(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = selectors.meeting_get(scope=_staff(request), pk=pk)
    form = forms.ConcludeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_conclude(actor=request.user, meeting=meeting, **form.cleaned_data)
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, _("会议已结束，表决已截止"))
            return redirect("deliberation:meeting_detail", pk=pk)
    return render(
        request,
        "deliberation/meeting_action.html",
        {"meeting": meeting, "form": form, "title": _("结束会议")},
    )


@login_required
def meeting_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = selectors.meeting_get(scope=_staff(request), pk=pk)
    form = forms.CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_cancel(actor=request.user, meeting=meeting, **form.cleaned_data)
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            return redirect("deliberation:meeting_detail", pk=pk)
    return render(
        request,
        "deliberation/meeting_action.html",
        {"meeting": meeting, "form": form, "title": _("取消会议")},
    )


@login_required
def meeting_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    """Phone page: tick who is here (plain checkboxes), and whose household a proxy holds.

    A large 村民会议 is recorded one grid at a time (``?grid=``); saving one grid leaves the
    others' attendance as it was.
    """
    meeting = selectors.meeting_get(scope=_staff(request), pk=pk)
    grids = list(selectors.meeting_grids(meeting=meeting))
    grid_id = _int_param(request, "grid")
    if grid_id is not None and grid_id not in {g.pk for g in grids}:
        raise Http404
    error = None
    if request.method == "POST":
        ticked = parse_ids(request.POST.getlist("present"))
        shown = parse_ids(request.POST.getlist("shown"))
        typed = {rid: clean_text(request.POST.get(f"proxy_{rid}"), max_length=30) for rid in ticked}
        wanted_numbers = {rid: number for rid, number in typed.items() if number}
        by_number = selectors.household_ids_by_number(
            village_id=meeting.village_id, numbers=set(wanted_numbers.values())
        )
        unknown = sorted(set(wanted_numbers.values()) - set(by_number))
        try:
            if unknown:
                raise ValidationError(_("户号%(numbers)s不存在") % {"numbers": "、".join(unknown)})
            result = services.attendance_set(
                actor=request.user,
                meeting=meeting,
                resident_ids=ticked,
                shown_ids=shown,
                proxies={rid: by_number[number] for rid, number in wanted_numbers.items()},
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("已保存，到会共%(n)d人") % {"n": result["present"]})
            url = reverse("deliberation:meeting_attendance", args=[pk])
            return redirect(f"{url}?grid={grid_id}" if grid_id else url)
    sheet = selectors.attendance_sheet(meeting=meeting, grid_id=grid_id)
    if error:
        # Keep what was ticked and typed so that nothing entered on the phone is lost.
        ticked_ids = set(parse_ids(request.POST.getlist("present")))
        for group in sheet:
            for row in group["residents"]:
                rid = row["resident"].pk
                row["present"] = rid in ticked_ids
                row["proxy_number"] = clean_text(request.POST.get(f"proxy_{rid}"), max_length=30)
    return render(
        request,
        "deliberation/attendance.html",
        {
            "meeting": meeting,
            "sheet": sheet,
            "grids": grids if len(grids) > 1 else [],
            "grid_id": grid_id,
            "error": error,
            "editable": meeting.status == Meeting.Status.ANNOUNCED,
            "present_count": meeting.attendances.count(),
            "page_count": sum(r["present"] for g in sheet for r in g["residents"]),
        },
    )


# --- motions -----------------------------------------------------------------------------


@login_required
def motion_create(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = selectors.meeting_get(scope=_staff(request), pk=pk)
    form = forms.MotionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            motion = services.motion_create(
                actor=request.user, village=meeting.village, meeting=meeting, **form.cleaned_data
            )
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            return redirect("deliberation:motion_detail", pk=motion.pk)
    return render(
        request,
        "deliberation/meeting_action.html",
        {"meeting": meeting, "form": form, "title": _("提交表决事项")},
    )


@login_required
def ballot_create(request: HttpRequest) -> HttpResponse:
    scope = _staff(request)
    form = forms.BallotForm(
        request.POST or None,
        villages=scope.villages(),
        grids=scope.grids().select_related("village"),
    )
    if request.method == "POST" and form.is_valid():
        try:
            motion = services.motion_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            return redirect("deliberation:motion_detail", pk=motion.pk)
    return render(
        request, "deliberation/meeting_action.html", {"form": form, "title": _("发起按户表决")}
    )


@login_required
def motion_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The computed result, with the reasons. An open secret ballot shows only how many have
    voted: running counts per choice, compared before and after a vote, would reveal it."""
    motion = selectors.motion_get(scope=_staff(request), pk=pk)
    sealed = selectors.motion_tallies_sealed(motion)
    return render(
        request,
        "deliberation/motion_detail.html",
        {
            "motion": motion,
            "sealed": sealed,
            "voted_count": selectors.motion_voted_count(motion=motion),
            "outcome": None if sealed else selectors.motion_outcome(motion=motion),
            "provisional": motion.status != Motion.Status.CLOSED,
            "votes": selectors.open_votes(motion=motion) if not motion.secret else [],
        },
    )


@login_required
@require_POST
def motion_open(request: HttpRequest, pk: int) -> HttpResponse:
    motion = selectors.motion_get(scope=_staff(request), pk=pk)
    try:
        services.motion_open(actor=request.user, motion=motion)
    except ValidationError as exc:
        _flash_errors(request, exc)
    return redirect("deliberation:motion_vote", pk=pk)


@login_required
@require_POST
def motion_close(request: HttpRequest, pk: int) -> HttpResponse:
    motion = selectors.motion_get(scope=_staff(request), pk=pk)
    try:
        services.motion_close(actor=request.user, motion=motion)
    except ValidationError as exc:
        _flash_errors(request, exc)
    return redirect("deliberation:motion_detail", pk=pk)


@login_required
def motion_vote(request: HttpRequest, pk: int) -> HttpResponse:
    """Phone page: record one voter's vote at a time (a secret choice is never shown back)."""
    motion = selectors.motion_get(scope=_staff(request), pk=pk)
    pending = list(selectors.motion_voters_pending(motion=motion))
    household_ballot = motion.mode == Motion.Mode.HOUSEHOLD_BALLOT
    voters = [
        (
            v.pk,
            f"{v.number} {v.head.name if v.head else ''}".strip()
            if household_ballot
            else f"{v.name}（{v.household.number}）",
        )
        for v in pending
    ]
    form = forms.VoteForm(request.POST or None, voters=voters)
    if request.method == "POST" and form.is_valid():
        voter_id = form.cleaned_data["voter"]
        voter = (
            {"household": get_object_or_404(Household, pk=voter_id)}
            if household_ballot
            else {"resident": get_object_or_404(Resident, pk=voter_id)}
        )
        try:
            services.vote_cast(
                actor=request.user, motion=motion, choice=form.cleaned_data["choice"], **voter
            )
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, _("已记录投票"))
            return redirect("deliberation:motion_vote", pk=pk)
    return render(
        request,
        "deliberation/motion_vote.html",
        {
            "motion": motion,
            "form": form,
            "pending_count": len(pending),
            "voted_count": selectors.motion_voted_count(motion=motion),
            "not_started": motion.status == Motion.Status.OPEN
            and motion.opens_at is not None
            and motion.opens_at > timezone.now(),
        },
    )


# --- village rules -----------------------------------------------------------------------


@login_required
def rule_version_list(request: HttpRequest) -> HttpResponse:
    scope = _staff(request)
    village_id = _int_param(request, "village")
    return render(
        request,
        "deliberation/rule_version_list.html",
        {
            "versions": selectors.rule_versions(scope=scope, village_id=village_id)[:100],
            "villages": scope.villages(),
            "village_id": village_id,
        },
    )


@login_required
def rule_version_create(request: HttpRequest) -> HttpResponse:
    scope = _staff(request)
    form = forms.RuleVersionForm(request.POST or None, villages=scope.villages())
    if request.method == "POST" and form.is_valid():
        try:
            version = services.rule_version_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            return redirect("deliberation:rule_version_detail", pk=version.pk)
    return render(request, "deliberation/rule_version_form.html", {"form": form})


RULE_ACTIONS = {
    "consultation": (
        forms.ConsultationForm,
        services.rule_version_open_consultation,
        _("公开征求意见"),
    ),
    "submit": (None, services.rule_version_submit_review, _("提交合法性审查")),
    "review": (forms.ReviewForm, services.rule_version_review, _("合法性审查")),
    "vote": (forms.PutToVoteForm, services.rule_version_put_to_vote, _("提交村民会议表决")),
    "adopt": (forms.AdoptForm, services.rule_version_adopt, _("登记村民会议表决结果")),
    "file": (None, services.rule_version_file, _("备案")),
    "in_force": (forms.InForceForm, services.rule_version_bring_into_force, _("施行")),
    "article": (forms.ArticleForm, services.article_save, _("修改条款")),
}


def _rule_forms(version: RuleVersion, data=None, action: str | None = None) -> dict:
    built = {}
    for name, (form_class, _service, _label) in RULE_ACTIONS.items():
        if form_class is None:
            continue
        kwargs = {}
        if name == "adopt":
            kwargs = {"motions": selectors.adoptable_motions(version=version)}
        elif name == "vote":
            kwargs = {"meetings": selectors.assembly_meetings_for_vote(version=version)}
        built[name] = form_class(data if name == action else None, prefix=name, **kwargs)
    return built


@login_required
def rule_version_detail(request: HttpRequest, pk: int, action: str | None = None) -> HttpResponse:
    scope = _staff(request)
    version = selectors.rule_version_get(scope=scope, pk=pk)
    if action is not None and action not in RULE_ACTIONS:
        raise Http404
    action_forms = _rule_forms(version, request.POST if request.method == "POST" else None, action)
    if request.method == "POST" and action is not None:
        form_class, service, _label = RULE_ACTIONS[action]
        form = action_forms.get(action)
        if form is None or form.is_valid():
            kwargs = dict(form.cleaned_data) if form is not None else {}
            if action == "review":
                kwargs = {"approve": kwargs["decision"] == "approve", "opinion": kwargs["opinion"]}
            try:
                result = service(actor=request.user, version=version, **kwargs)
            except ValidationError as exc:
                if form is not None:
                    _service_errors(form, exc)
                else:
                    _flash_errors(request, exc)
            else:
                if action == "vote":
                    messages.success(request, _("已提交村民会议表决，请在会议上开始表决"))
                    return redirect("deliberation:motion_detail", pk=result.pk)
                messages.success(request, _("操作成功"))
                return redirect("deliberation:rule_version_detail", pk=pk)
    return render(
        request,
        "deliberation/rule_version_detail.html",
        {
            "version": version,
            "forms": action_forms,
            "is_township": scope.is_township,
            "motions": selectors.rule_version_motions(version=version),
            "coverage": selectors.commitment_coverage(
                village_id=version.rule.village_id, version=version
            )
            if version.status == RuleVersion.Status.IN_FORCE
            else None,
        },
    )


@login_required
def rule_version_print(request: HttpRequest, pk: int) -> HttpResponse:
    version = selectors.rule_version_get(scope=_staff(request), pk=pk)
    return render(
        request,
        "deliberation/rules_print.html",
        {"version": version, "village": version.rule.village, "articles": version.articles.all()},
    )


@login_required
def commitments(request: HttpRequest) -> HttpResponse:
    """Representative (or village staff): tick the households that signed the rules in force."""
    scope = scope_of(request.user)
    if not (scope.is_representative or scope.is_staff_role) or scope.village_id is None:
        raise PermissionDenied
    version = selectors.in_force_version(village_id=scope.village_id)
    if version is None:
        return render(request, "deliberation/commitments.html", {"version": None})
    households = list(selectors.commitment_households(scope=scope, version=version))
    form = forms.CommitmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wanted = set(parse_ids(request.POST.getlist("household")))
        chosen = [h for h in households if h.pk in wanted and not h.signed]
        try:
            added = services.commitments_record(
                actor=request.user,
                version=version,
                households=chosen,
                signed_on=form.cleaned_data["signed_on"],
            )
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, _("已登记%(n)d户承诺") % {"n": added})
            return redirect("deliberation:commitments")
    return render(
        request,
        "deliberation/commitments.html",
        {
            "version": version,
            "households": households,
            "form": form,
            "signed": sum(h.signed for h in households),
            "coverage": selectors.commitment_coverage(village_id=scope.village_id, version=version)
            if scope.is_staff_role
            else None,
        },
    )


# --- public pages ------------------------------------------------------------------------


def public_board(request: HttpRequest, village_code: str) -> HttpResponse:
    village = selectors.public_village(code=village_code)
    return render(
        request,
        "deliberation/public_board.html",
        {
            "village": village,
            "request_figures_template": _optional_template(REQUEST_FIGURES_TEMPLATE),
            **selectors.public_board(village=village),
        },
    )


# The governance app adds this template (with its own tags) to show the village's
# request-handling figures on the board; until it exists the board shows none.
REQUEST_FIGURES_TEMPLATE = "governance/partials/public_request_figures.html"


def _optional_template(name: str) -> str | None:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return None
    return name


def public_rules(request: HttpRequest, village_code: str) -> HttpResponse:
    village = selectors.public_village(code=village_code)
    version = selectors.in_force_version(village_id=village.pk)
    return render(
        request,
        "deliberation/rules_print.html",
        {
            "village": village,
            "version": version,
            "articles": version.articles.all() if version else [],
            "public": True,
        },
    )


def public_article(request: HttpRequest, village_code: str, number: int) -> HttpResponse:
    village = selectors.public_village(code=village_code)
    article = selectors.public_article(village=village, number=_path_id(number))
    points_rules = []
    if hasattr(article, "points_rules"):
        # Present once the points app cites articles (PointsRule.legal_basis).
        points_rules = list(article.points_rules.all()[:50])
    return render(
        request,
        "deliberation/public_article.html",
        {"village": village, "article": article, "points_rules": points_rules},
    )


# An open form on a public page: enough for a family around one phone, not for a flood.
COMMENTS_PER_HOUR_PER_ADDRESS = 10


def _comment_allowed(request: HttpRequest) -> bool:
    # Behind nginx REMOTE_ADDR is the proxy's: every visitor would share one allowance.
    key = f"deliberation:comments:{client_address(request)}"
    cache.add(key, 0, timeout=3600)
    return cache.incr(key) <= COMMENTS_PER_HOUR_PER_ADDRESS


def public_consultation(request: HttpRequest, village_code: str, pk: int) -> HttpResponse:
    """The draft under consultation, with a comment form (residents' own words, per article)."""
    village = selectors.public_village(code=village_code)
    version = selectors.public_consultation(village=village, pk=_path_id(pk))
    articles = list(version.articles.all())
    scope = scope_of(request.user)
    on_behalf = scope.is_representative and scope.village_id == village.pk
    form = forms.CommentForm(
        request.POST or None,
        articles=articles,
        households=scope.households().order_by("number") if on_behalf else None,
    )
    if (
        request.method == "POST"
        and form.is_valid()
        and not on_behalf
        and not _comment_allowed(request)
    ):
        form.add_error(None, _("提交过于频繁，请一小时后再试"))
    if request.method == "POST" and form.is_valid():
        article = Article.objects.get(pk=form.cleaned_data["article"], version=version)
        try:
            services.comment_add(
                actor=request.user if on_behalf else None,
                article=article,
                author_name=form.cleaned_data["author_name"],
                text=form.cleaned_data["text"],
                household=form.cleaned_data.get("household"),
            )
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, _("感谢您的意见，已提交村委会"))
            return redirect("deliberation:public_consultation", village_code=village_code, pk=pk)
    return render(
        request,
        "deliberation/public_consultation.html",
        {"village": village, "version": version, "articles": articles, "form": form},
    )

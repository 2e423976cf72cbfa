"""Points pages: parse the request, call one service or selector, render."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from grids.access import scope_of
from grids.models import Household, Village
from grids.qr import qr_svg
from grids.validators import clean_text, parse_id

from . import selectors, services
from .forms import (
    ApproveForm,
    BulkAwardForm,
    ClaimForm,
    CounterForm,
    HonourFilterForm,
    HonourForm,
    PublicCodeForm,
    RejectForm,
    ReportPeriodForm,
)
from .models import Claim, ClaimBatch, Honour, Redemption, Shop

PAGE_SIZE = 50


def _staff_scope(request: HttpRequest):
    scope = scope_of(request.user)
    if not scope.is_staff_role:
        raise PermissionDenied
    return scope


def _add_errors(form, exc: ValidationError) -> None:
    for message in exc.messages:
        form.add_error(None, message)


def _village_for(request: HttpRequest, scope) -> Village:
    """The village a staff page works on: the user's own, or ?village= for township staff."""
    villages = scope.villages()
    value = request.GET.get("village") or request.POST.get("village") or ""
    if parse_id(value) is not None:
        village = villages.filter(pk=parse_id(value)).first()
    else:
        village = villages.order_by("code").first() if scope.village_id is None else None
        village = village or villages.filter(pk=scope.village_id).first()
    if village is None:
        raise Http404(_("没有可管理的村"))
    return village


# --- claims ---------------------------------------------------------------------------------------


@login_required
def claim_queue(request: HttpRequest) -> HttpResponse:
    scope = _staff_scope(request)
    page = Paginator(selectors.claim_queue(scope=scope), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    batches = selectors.batch_queue(scope=scope)[:PAGE_SIZE]
    return render(request, "points/claim_queue.html", {"page": page, "batches": batches})


# The two buttons of a decision page; a POST with anything else (a tampered or empty form) is
# answered with what to choose.
DECISIONS = ("approve", "reject")
CHOOSE_DECISION = gettext_lazy("请选择“通过”或“驳回”")


@login_required
@require_http_methods(["GET", "POST"])
def batch_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """A 批量申报: approve all its households at once, or reject it with a reason."""
    scope = _staff_scope(request)
    try:
        batch = selectors.batch_for_decision(scope=scope, batch_id=pk)
    except ClaimBatch.DoesNotExist as exc:
        raise Http404(_("批量申报不存在或已处理")) from exc
    action = request.POST.get("action")
    reject_form = RejectForm(request.POST if action == "reject" else None)
    errors: list[str] = []
    if request.method == "POST" and action not in DECISIONS:
        errors = [CHOOSE_DECISION]
    try:
        if action == "approve":
            entries = services.claim_batch_approve(actor=request.user, batch=batch)
            messages.success(request, _("已通过，已为%(n)d户记分") % {"n": len(entries)})
            return redirect("points:claim_queue")
        if action == "reject" and reject_form.is_valid():
            services.claim_batch_reject(
                actor=request.user, batch=batch, reason=reject_form.cleaned_data["reason"]
            )
            messages.success(request, _("已驳回"))
            return redirect("points:claim_queue")
    except ValidationError as exc:
        errors = exc.messages
    return render(
        request,
        "points/batch_decide.html",
        {
            "batch": batch,
            "households": selectors.batch_households(batch=batch),
            "reject_form": reject_form,
            "errors": errors,
            "own_batch": batch.submitted_by_id == request.user.pk,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def claim_decide(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _staff_scope(request)
    try:
        claim = selectors.claim_for_decision(scope=scope, claim_id=pk)
    except Claim.DoesNotExist as exc:
        raise Http404(_("申报不存在或已处理")) from exc
    meetings = selectors.meetings_for_village(village_id=claim.household.village_id)
    action = request.POST.get("action")
    approve_form = ApproveForm(
        request.POST if action == "approve" else None,
        meetings=meetings,
        needs_review=claim.rule.needs_review,
    )
    reject_form = RejectForm(request.POST if action == "reject" else None)
    if request.method == "POST" and action not in DECISIONS:
        messages.error(request, CHOOSE_DECISION)
    if action == "approve" and approve_form.is_valid():
        try:
            services.claim_approve(
                actor=request.user, claim=claim, meeting=approve_form.cleaned_data["meeting"]
            )
        except ValidationError as exc:
            _add_errors(approve_form, exc)
        else:
            messages.success(request, _("已通过，积分已记入存折"))
            return redirect("points:claim_queue")
    elif action == "reject" and reject_form.is_valid():
        try:
            services.claim_reject(
                actor=request.user, claim=claim, reason=reject_form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            _add_errors(reject_form, exc)
        else:
            messages.success(request, _("已驳回"))
            return redirect("points:claim_queue")
    return render(
        request,
        "points/claim_decide.html",
        {
            "claim": claim,
            "approve_form": approve_form,
            "reject_form": reject_form,
            "own_claim": claim.submitted_by_id == request.user.pk,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def claim_pick_household(request: HttpRequest) -> HttpResponse:
    """Step one of a claim: pick one of the households the user may claim for."""
    scope = scope_of(request.user)
    if not (scope.is_representative or scope.is_staff_role):
        raise PermissionDenied
    search = clean_text(request.GET.get("q"), max_length=30)
    households = scope.households().select_related("head", "grid").order_by("number")
    if search:
        households = households.filter(Q(number__contains=search) | Q(head__name__contains=search))
    page = Paginator(households, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "points/claim_pick.html",
        {"page": page, "q": search, "mine": selectors.claims_submitted_by(user=request.user)[:10]},
    )


@login_required
@require_http_methods(["GET", "POST"])
def claim_new(request: HttpRequest, household_id: int) -> HttpResponse:
    scope = scope_of(request.user)
    try:
        household = scope.households().select_related("village").get(pk=household_id)
    except Household.DoesNotExist as exc:
        raise Http404 from exc
    form = ClaimForm(
        request.POST or None,
        request.FILES or None,
        rules=selectors.rules_in_force(scope=scope, village_id=household.village_id),
        residents=household.residents.order_by("pk"),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.claim_submit(
                actor=request.user,
                household=household,
                rule=form.cleaned_data["rule"],
                occurred_on=form.cleaned_data["occurred_on"],
                note=form.cleaned_data["note"],
                resident=form.cleaned_data["resident"],
                evidence=form.cleaned_data["evidence"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("申报已提交，等待村干部审核"))
            return redirect("points:claim_pick")
    return render(
        request,
        "points/claim_form.html",
        {"form": form, "household": household},
        status=400 if request.method == "POST" else 200,
    )


# --- bulk award -------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def bulk_award(request: HttpRequest) -> HttpResponse:
    scope = _staff_scope(request)
    village = _village_for(request, scope)
    form = BulkAwardForm(
        request.POST or None,
        rules=selectors.rules_in_force(scope=scope, village_id=village.pk),
        households=selectors.village_households(scope=scope, village_id=village.pk),
    )
    if request.method == "POST" and form.is_valid():
        try:
            batch = services.claim_batch_submit(
                actor=request.user,
                rule=form.cleaned_data["rule"],
                households=list(form.cleaned_data["households"]),
                occurred_on=form.cleaned_data["occurred_on"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request,
                _("已提交%(n)d户的批量申报，请另一位村干部在“待审申报”中审核后记分")
                % {"n": batch.size},
            )
            return redirect(f"{reverse('points:bulk_award')}?village={village.pk}")
    return render(
        request,
        "points/bulk_award.html",
        {
            "form": form,
            "village": village,
            "villages": scope.villages().order_by("code"),
            "mine": selectors.batches_submitted_by(user=request.user),
        },
        status=400 if request.method == "POST" else 200,
    )


# --- passbook ---------------------------------------------------------------------------------------


def _public_passbook_url(household: Household) -> str:
    return settings.SITE_URL + reverse("points:public_passbook", args=[household.public_code])


@login_required
def passbook(request: HttpRequest, household_id: int) -> HttpResponse:
    scope = scope_of(request.user)
    try:
        book = selectors.passbook(scope=scope, household_id=household_id)
    except Household.DoesNotExist as exc:
        raise Http404 from exc
    printable = request.GET.get("print") == "1"
    public_url = _public_passbook_url(book.household)
    return render(
        request,
        "points/passbook_print.html" if printable else "points/passbook.html",
        {
            "book": book,
            "public_url": public_url,
            "qr": qr_svg(public_url, scale=3) if printable else None,
            "is_staff": scope.is_staff_role,
        },
    )


@require_GET
def public_lookup(request: HttpRequest) -> HttpResponse:
    form = PublicCodeForm(request.GET or None)
    if form.is_valid():
        return redirect("points:public_passbook", code=form.cleaned_data["code"])
    return render(request, "points/public_lookup.html", {"form": form})


@require_GET
def public_passbook(request: HttpRequest, code: str) -> HttpResponse:
    """Anyone with the household's code: balance, recent entries, rank; no personal data."""
    try:
        book = selectors.public_passbook(public_code=code[:16])
    except Household.DoesNotExist:
        return render(
            request,
            "points/public_unknown.html",
            {"form": PublicCodeForm(initial={"code": code[:16]})},
            status=404,
        )
    return render(request, "points/public_passbook.html", {"book": book})


# --- the counter ----------------------------------------------------------------------------------


@login_required
def counter(request: HttpRequest) -> HttpResponse:
    """积分超市 counter, step one: find the household by 户号, name or its passbook code."""
    scope = _staff_scope(request)
    search = clean_text(request.GET.get("q"), max_length=200)
    households = selectors.counter_households(scope=scope, search=search)
    scanned = search.strip().rstrip("/").rsplit("/", 1)[-1].upper()
    if len(households) == 1 and scanned == households[0].public_code:
        return redirect("points:counter_household", household_id=households[0].pk)
    return render(request, "points/counter.html", {"q": search, "households": households})


@login_required
@require_http_methods(["GET", "POST"])
def counter_household(request: HttpRequest, household_id: int) -> HttpResponse:
    """Step two: quantities; step three: confirm. Points and stock move only on confirm."""
    scope = _staff_scope(request)
    try:
        household = selectors.counter_household(scope=scope, household_id=household_id)
    except Household.DoesNotExist as exc:
        raise Http404 from exc
    shops = list(selectors.shops_for_village(scope=scope, village_id=household.village_id))
    if not shops:
        return render(request, "points/counter_no_shop.html", {"household": household})
    shop_id = request.POST.get("shop") or request.GET.get("shop") or ""
    shop = next((s for s in shops if str(s.pk) == shop_id), shops[0])
    products = selectors.shop_products(shop=shop)
    form = CounterForm(request.POST or None, products=products)
    balance = getattr(getattr(household, "points_account", None), "balance", 0)
    context = {
        "household": household,
        "shops": shops,
        "shop": shop,
        "form": form,
        "balance": balance,
    }
    action = request.POST.get("action")
    if action in {"preview", "confirm"} and form.is_valid():
        quantities = form.quantities()
        if action == "confirm":
            try:
                redemption = services.household_redeem(
                    actor=request.user,
                    household=household,
                    shop=shop,
                    quantities=quantities,
                    request_key=request.POST.get("request_key", "")[:40],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
                return render(request, "points/counter_household.html", context, status=400)
            messages.success(
                request,
                _("兑换成功：扣除%(points)d分") % {"points": redemption.total_points},
            )
            return redirect("points:redemption_receipt", pk=redemption.pk)
        lines = [
            {
                "product": p,
                "quantity": quantities[p.pk],
                "points": quantities[p.pk] * p.points_price,
            }
            for p in form.products
            if p.pk in quantities
        ]
        total = sum(line["points"] for line in lines)
        return render(
            request,
            "points/counter_confirm.html",
            {
                **context,
                "lines": lines,
                "total": total,
                "after": balance - total,
                "request_key": uuid.uuid4().hex,
            },
        )
    return render(request, "points/counter_household.html", context, status=400 if action else 200)


@login_required
@require_http_methods(["GET", "POST"])
def redemption_receipt(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _staff_scope(request)
    try:
        redemption = (
            Redemption.objects.filter(scope.village_q("shop__village"))
            .select_related("account__household", "shop", "by")
            .prefetch_related("lines__product")
            .get(pk=pk)
        )
    except Redemption.DoesNotExist as exc:
        raise Http404 from exc
    error = ""
    if request.method == "POST":
        try:
            services.redemption_cancel(
                actor=request.user,
                redemption=redemption,
                reason=request.POST.get("reason", ""),
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("兑换已撤销，积分和库存已退回"))
            return redirect("points:redemption_receipt", pk=pk)
    return render(
        request,
        "points/redemption_receipt.html",
        {"redemption": redemption, "error": error, "reason": request.POST.get("reason", "")},
        status=400 if error else 200,
    )


# --- shop report and rules ------------------------------------------------------------------------


@login_required
def shop_list(request: HttpRequest) -> HttpResponse:
    scope = _staff_scope(request)
    return render(request, "points/shop_list.html", {"shops": selectors.visible_shops(scope=scope)})


@login_required
def shop_report(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _staff_scope(request)
    today = timezone.localdate()
    form = ReportPeriodForm(
        request.GET or None,
        initial={"start": today.replace(day=1), "end": today},
    )
    start, end = today.replace(day=1), today
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    elif not request.GET:
        form = ReportPeriodForm(initial={"start": start, "end": end})
    try:
        report = selectors.shop_stock_report(scope=scope, shop_id=pk, start=start, end=end)
    except Shop.DoesNotExist as exc:
        raise Http404 from exc
    return render(
        request,
        "points/shop_report.html",
        {"report": report, "form": form},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
def rule_list(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    if scope.role is None and not scope.is_superuser:
        raise PermissionDenied
    return render(
        request,
        "points/rule_list.html",
        {"rules": selectors.rule_list(scope=scope), "today": timezone.localdate()},
    )


# --- honours ----------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def honour_list(request: HttpRequest) -> HttpResponse:
    """This year's honours, candidates by points earned in the year, and the award form."""
    scope = _staff_scope(request)
    village = _village_for(request, scope)
    filters = HonourFilterForm(request.GET)
    year, threshold = filters.values()
    form = HonourForm(
        request.POST or None,
        households=selectors.village_households(scope=scope, village_id=village.pk),
        meetings=selectors.meetings_for_village(village_id=village.pk),
        titles=Honour.TITLES,
        initial={"year": year, "household": parse_id(request.GET.get("household"))},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.honour_award(
                actor=request.user,
                household=form.cleaned_data["household"],
                title=form.cleaned_data["title"],
                year=form.cleaned_data["year"],
                meeting=form.cleaned_data["meeting"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("已授予荣誉称号"))
            return redirect(f"{reverse('points:honour_list')}?village={village.pk}&year={year}")
    return render(
        request,
        "points/honour_list.html",
        {
            "village": village,
            "year": year,
            "threshold": threshold,
            "filters": filters,
            "honours": selectors.honours_for_village(scope=scope, village_id=village.pk, year=year),
            "candidates": selectors.honour_candidates(
                scope=scope, village_id=village.pk, threshold=threshold, year=year
            ),
            "form": form,
        },
        status=400 if request.method == "POST" or filters.errors else 200,
    )


@require_GET
def public_honours(request: HttpRequest, village_code: str) -> HttpResponse:
    """Anyone: the village's honours by year, the head's masked name only."""
    village = get_object_or_404(Village.objects.select_related("township"), code=village_code)
    return render(
        request,
        "points/public_honours.html",
        {"village": village, "honours": selectors.public_honours(village_id=village.pk)},
    )


@login_required
def honour_certificate(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _staff_scope(request)
    try:
        honour = selectors.honour_for_certificate(scope=scope, honour_id=pk)
    except Honour.DoesNotExist as exc:
        raise Http404 from exc
    return render(request, "points/honour_certificate.html", {"honour": honour})

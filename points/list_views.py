"""红黑榜 pages: the staff view (full names, ineligibility, withdraw) and the public pages.

The public page and the print views are anonymous, carry no script and no form, and are cached
whole; the cache is keyed by a per-village token that a new publication or revision deletes
(``points.lists.public_cache_key``), so villagers never see a stale revision.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grids.access import scope_of
from grids.models import Village
from grids.qr import qr_svg

from . import lists
from .models import ListEntry, ListPublication

PUBLIC_CACHE_SECONDS = 3600


def _publications(village: Village, quarter: str | None):
    current = ListPublication.objects.filter(
        village=village, status=ListPublication.Status.PUBLISHED
    )
    quarters = list(current.order_by("-quarter").values_list("quarter", flat=True).distinct())
    quarter = quarter if quarter in quarters else (quarters[0] if quarters else None)
    shown = []
    if quarter:
        for pub in current.filter(quarter=quarter).order_by("theme"):
            entries = [e for e in pub.entries.all() if not e.withdrawn]
            pub.red = [e for e in entries if e.colour == "red"]
            pub.black = [e for e in entries if e.colour == "black"]
            shown.append(pub)
    return quarter, quarters, shown


def _public_context(village: Village, quarter: str | None) -> dict:
    quarter, quarters, pubs = _publications(village, quarter)
    from .models import Product

    prize_names = dict(
        Product.objects.filter(
            pk__in={e.prize_id for p in pubs for e in p.red if e.prize_id}
        ).values_list("pk", "name")
    )
    for pub in pubs:
        for e in pub.red:
            e.prize_name = prize_names.get(e.prize_id, "")
    page_url = settings.SITE_URL + reverse("points:public_lists", args=[village.code])
    return {
        "village": village,
        "quarter": quarter,
        "quarter_label": lists.quarter_label(quarter) if quarter else "",
        "archive": [(q, lists.quarter_label(q)) for q in quarters if q != quarter],
        "publications": pubs,
        "page_url": page_url,
    }


def _cached_page(village_code: str, variant: str, render_page) -> HttpResponse:
    """A cached page costs no query; a miss renders it (404 for an unknown village)."""
    base = lists.public_cache_key(village_code)
    token = cache.get(base)
    html = cache.get(f"{base}:{token}:{variant}") if token else None
    if html is None:
        html = render_page()  # raises Http404 first for an unknown village: nothing cached
        if token is None:
            token = uuid.uuid4().hex[:12]
            cache.set(base, token, PUBLIC_CACHE_SECONDS * 24)
        cache.set(f"{base}:{token}:{variant}", html, PUBLIC_CACHE_SECONDS)
    response = HttpResponse(html)
    response["Cache-Control"] = "public, max-age=300"
    return response


def public_lists(request: HttpRequest, village_code: str) -> HttpResponse:
    quarter = request.GET.get("quarter") or None
    if quarter and not lists.QUARTER_RE.match(quarter):
        raise Http404

    def render_page() -> str:
        village = get_object_or_404(Village, code=village_code)
        return render_to_string("points/lists/public.html", _public_context(village, quarter))

    return _cached_page(village_code, f"page:{quarter or 'current'}", render_page)


def public_lists_print(request: HttpRequest, village_code: str) -> HttpResponse:
    size = request.GET.get("size", "a4")
    if size not in ("a4", "a3"):
        raise Http404
    quarter = request.GET.get("quarter") or None
    if quarter and not lists.QUARTER_RE.match(quarter):
        raise Http404

    def render_page() -> str:
        village = get_object_or_404(Village, code=village_code)
        context = _public_context(village, quarter)
        context["size"] = size
        context["qr"] = qr_svg(context["page_url"], scale=5 if size == "a4" else 7)
        return render_to_string("points/lists/print.html", context)

    return _cached_page(village_code, f"print:{size}:{quarter or 'current'}", render_page)


def _staff_village(request: HttpRequest) -> tuple[Village, list[Village]]:
    scope = scope_of(request.user)
    if not scope.is_staff_role:
        raise PermissionDenied
    villages = list(scope.villages().order_by("code"))
    if not villages:
        raise Http404
    wanted = request.GET.get("village")
    village = next((v for v in villages if str(v.pk) == wanted), villages[0])
    return village, villages


@login_required
def staff_lists(request: HttpRequest) -> HttpResponse:
    village, villages = _staff_village(request)
    quarter, quarters, pubs = _publications(village, request.GET.get("quarter"))
    entry_ids = [e.pk for p in pubs for e in p.red + p.black]
    rows = {
        e.pk: e
        for e in ListEntry.objects.filter(pk__in=entry_ids).select_related(
            "household__head", "household__grid", "prize"
        )
    }
    from .models import Objection

    objections: dict[int, list] = {}
    for objection in Objection.objects.filter(
        entry__publication__in=pubs, status=Objection.Status.OPEN
    ).select_related("entry"):
        objections.setdefault(objection.entry.publication_id, []).append(objection)
    # Black-listed in any theme of the quarter: no award, also on the other theme's red list.
    ineligible = (
        lists.ineligible_household_ids(village_id=village.pk, quarter=quarter) if quarter else set()
    )
    for row in rows.values():
        row.ineligible = row.household_id in ineligible
    for pub in pubs:
        pub.red = [rows[e.pk] for e in pub.red]
        pub.black = [rows[e.pk] for e in pub.black]
        pub.withdrawn_entries = list(pub.entries.filter(withdrawn=True).select_related("household"))
        pub.open_objections = objections.get(pub.pk, [])
    return render(
        request,
        "points/lists/staff.html",
        {
            "village": village,
            "villages": villages,
            "quarter": quarter,
            "quarters": quarters,
            "publications": pubs,
        },
    )


def _list_staff_scope(request: HttpRequest):
    """Withdrawals and objections are village or township staff work; others get 403."""
    scope = scope_of(request.user)
    if not (scope.is_township or scope.is_village_staff):
        raise PermissionDenied
    return scope


@login_required
@require_POST
def staff_entry_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _list_staff_scope(request)
    entry = get_object_or_404(
        ListEntry.objects.select_related("publication"),
        scope.village_q("publication__village"),
        pk=pk,
    )
    try:
        lists.list_entry_withdraw(
            actor=request.user, entry=entry, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已撤下该记录，并发布了新版本"))
    return _back_to_lists(entry.publication)


def _back_to_lists(publication: ListPublication) -> HttpResponse:
    return redirect(
        f"{reverse('points:staff_lists')}?village={publication.village_id}"
        f"&quarter={publication.quarter}"
    )


@login_required
@require_POST
def staff_objection_record(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _list_staff_scope(request)
    entry = get_object_or_404(
        ListEntry.objects.select_related("publication"),
        scope.village_q("publication__village"),
        pk=pk,
    )
    try:
        lists.objection_record(actor=request.user, entry=entry, text=request.POST.get("text", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已登记异议"))
    return _back_to_lists(entry.publication)


@login_required
@require_POST
def staff_objection_decide(request: HttpRequest, pk: int) -> HttpResponse:
    from .models import Objection

    scope = _list_staff_scope(request)
    objection = get_object_or_404(
        Objection.objects.select_related("entry__publication"),
        scope.village_q("entry__publication__village"),
        pk=pk,
    )
    try:
        lists.objection_decide(
            actor=request.user,
            objection=objection,
            upheld=request.POST.get("upheld") == "1",
            decision=request.POST.get("decision", ""),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已处理异议"))
    return _back_to_lists(objection.entry.publication)

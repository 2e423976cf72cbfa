from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from . import selectors, services
from .access import scope_of
from .models import Household, Representative
from .qr import qr_svg
from .validators import clean_text, parse_id

PAGE_SIZE = 50


def staff_scope(request: HttpRequest):
    scope = scope_of(request.user)
    if not scope.is_staff_role:
        raise PermissionDenied
    return scope


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each role to where its work is."""
    scope = scope_of(request.user)
    if scope.is_representative:
        return redirect(
            getattr(settings, "REPRESENTATIVE_HOME_URL", None) or reverse("grids:my_households")
        )
    if scope.is_staff_role or scope.is_department_handler:
        return redirect(
            getattr(settings, "STAFF_HOME_URL", None) or reverse("grids:household_list")
        )
    return render(request, "grids/no_scope.html", status=200)


@login_required
def my_households(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    if not scope.is_representative:
        raise PermissionDenied
    households = selectors.household_list(scope=scope).order_by("-priority", "number")
    return render(request, "grids/my_households.html", {"households": households})


@login_required
def household_list(request: HttpRequest) -> HttpResponse:
    scope = staff_scope(request)
    village_id = _int_param(request, "village")
    grid_id = _int_param(request, "grid")
    search = clean_text(request.GET.get("q"), max_length=50)
    households = selectors.household_list(
        scope=scope, village_id=village_id, grid_id=grid_id, search=search
    )
    page = Paginator(households, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "grids/household_list.html",
        {
            "page": page,
            "villages": selectors.visible_villages(scope=scope),
            "grids": selectors.visible_grids(scope=scope, village_id=village_id)
            if village_id
            else [],
            "village_id": village_id,
            "grid_id": grid_id,
            # A village clerk's list is their village's page: show who answers for it.
            "contacts_village_id": village_id or scope.village_id,
            "q": search,
        },
    )


@login_required
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scope = scope_of(request.user)
    try:
        household = selectors.household_detail(scope=scope, household_id=pk)
    except Household.DoesNotExist as exc:
        raise Http404 from exc
    can_see_pii = scope.can_see_pii(household.village_id)
    residents = [
        {
            "resident": r,
            **selectors.resident_display(scope=scope, resident=r, village_id=household.village_id),
        }
        for r in household.residents.all()
    ]
    return render(
        request,
        "grids/household_detail.html",
        {
            "household": household,
            "residents": residents,
            "can_see_pii": can_see_pii,
        },
    )


@login_required
def representative_list(request: HttpRequest) -> HttpResponse:
    scope = staff_scope(request)
    village_id = _int_param(request, "village")
    loads = selectors.representative_list(scope=scope, village_id=village_id)
    return render(
        request,
        "grids/representative_list.html",
        {
            "loads": loads,
            "villages": selectors.visible_villages(scope=scope),
            "village_id": village_id,
            "contacts_village_id": village_id or scope.village_id,
            "flagged": sum(1 for load in loads if load.below or load.above),
            # 村里设置初始密码 happens in the admin, open to village and township staff.
            "can_set_passwords": request.user.is_staff
            and (scope.is_township or scope.is_village_staff),
        },
    )


@login_required
def representative_card(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable 实名代表证 with a QR code to the public verification page."""
    scope = scope_of(request.user)
    try:
        representative = selectors.representative_for_card(scope=scope, representative_id=pk)
    except Representative.DoesNotExist as exc:
        raise Http404 from exc
    verify_url = settings.SITE_URL + reverse(
        "grids:card_verify", args=[representative.verify_token]
    )
    return render(
        request,
        "grids/representative_card.html",
        {
            "rep": representative,
            "verify_url": verify_url,
            "qr": qr_svg(verify_url),
        },
    )


@require_GET
def card_verify(request: HttpRequest, token: str) -> HttpResponse:
    """Public: is this card genuine and current? Name, grid, village, number, valid or ended."""
    try:
        representative = selectors.representative_public(verify_token=token)
    except Representative.DoesNotExist as exc:
        raise Http404 from exc
    return render(request, "grids/card_verify.html", {"rep": representative})


@login_required
@require_POST
def logout_everywhere(request: HttpRequest) -> HttpResponse:
    services.user_sessions_revoke(actor=request.user, user=request.user)
    logout(request)
    messages.success(request, _("已在所有设备上退出登录。"))
    return redirect("login")


class PasswordChange(auth_views.PasswordChangeView):
    """Django's password change form (old password, password rules), saved by the service:
    audited, and it lifts the "change your initial password" flag."""

    def form_valid(self, form):
        services.user_password_change(user=form.user, password=form.cleaned_data["new_password1"])
        update_session_auth_hash(self.request, form.user)
        return HttpResponseRedirect(self.get_success_url())


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database (and broker, when one is configured) reachability for the load balancer."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        checks["database"] = f"down: {exc.__class__.__name__}"
    broker_url = getattr(settings, "CELERY_BROKER_URL", "")
    if broker_url and not broker_url.startswith("memory://"):
        checks["broker"] = _broker_status(broker_url)
    else:
        checks["broker"] = "eager"
    healthy = all(value in {"ok", "eager"} for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503
    )


def _broker_status(url: str) -> str:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
        return "ok"
    except Exception as exc:  # noqa: BLE001
        return f"down: {exc.__class__.__name__}"


def _int_param(request: HttpRequest, name: str) -> int | None:
    return parse_id(request.GET.get(name, ""))

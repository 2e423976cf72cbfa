"""Staff upload pages for the spreadsheet imports: upload → preview (a dry run) → confirm.

The uploaded file waits under VAR_DIR/imports (never under MEDIA_ROOT: it holds ID numbers) and
is named by a random token; the confirm form carries that token signed together with the user
and the village, so nobody else can confirm it and it cannot be pointed at another village.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .access import UserScope, scope_of
from .models import Township, Village
from .roster_import import (
    MAX_FILE_BYTES,
    ROSTER_COLUMNS,
    TERRITORY_COLUMNS,
    ImportRejected,
    read_table,
    roster_import,
    territory_import,
)
from .validators import parse_id

SIGNING_SALT = "grids.import"
PENDING_MAX_AGE = 3600  # seconds a previewed file may wait for its confirmation
ALLOWED_SUFFIXES = {".csv", ".xlsx"}
MAX_ISSUES_SHOWN = 500


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("表格文件（CSV或XLSX）"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in ALLOWED_SUFFIXES:
            raise forms.ValidationError(_("请上传.csv或.xlsx文件"))
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(_("文件超过20MB，请分村导入"))
        return upload


def _pending_dir() -> Path:
    path = Path(settings.VAR_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _store_pending(upload) -> tuple[str, str]:
    """Save the upload for the confirm step; forget files nobody confirmed within the hour."""
    directory = _pending_dir()
    cutoff = time.time() - PENDING_MAX_AGE
    for old in directory.iterdir():
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    suffix = Path(upload.name).suffix.lower()
    token = secrets.token_urlsafe(16) + suffix
    with (directory / token).open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    return token, Path(upload.name).name


def _load_pending(request: HttpRequest, kind: str, village_id: int | None) -> tuple[Path, str]:
    try:
        data = signing.loads(
            request.POST.get("pending", ""), salt=SIGNING_SALT, max_age=PENDING_MAX_AGE
        )
    except signing.BadSignature as exc:
        raise PermissionDenied from exc
    if data.get("user") != request.user.pk or data.get("kind") != kind:
        raise PermissionDenied
    if data.get("village") != village_id:
        raise PermissionDenied
    path = _pending_dir() / Path(data["token"]).name
    if not path.exists():
        raise Http404
    return path, data["name"]


def _sign_pending(request: HttpRequest, kind: str, token: str, name: str, village_id=None) -> str:
    return signing.dumps(
        {
            "user": request.user.pk,
            "kind": kind,
            "token": token,
            "name": name,
            "village": village_id,
        },
        salt=SIGNING_SALT,
    )


@login_required
def territory_import_page(request: HttpRequest) -> HttpResponse:
    """Township staff (their own township) and superusers import 乡镇/村/片区/网格."""
    scope = scope_of(request.user)
    if not scope.is_township:
        raise PermissionDenied
    township_code = None
    if not scope.is_superuser:
        township_code = Township.objects.values_list("code", flat=True).get(pk=scope.township_id)
    form = UploadForm()
    context: dict = {"columns": TERRITORY_COLUMNS, "township_code": township_code}
    if request.method == "POST" and "confirm" in request.POST:
        path, name = _load_pending(request, "territory", None)
        try:
            report = _run_territory(path, name, township_code, request.user, dry_run=False)
        except ImportRejected as exc:
            context.update(_issues_context(exc))
        else:
            path.unlink(missing_ok=True)
            messages.success(request, _territory_summary(report))
            return redirect("grids:import_territory")
    elif request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            token, name = _store_pending(form.cleaned_data["file"])
            path = _pending_dir() / token
            try:
                report = _run_territory(path, name, township_code, request.user, dry_run=True)
            except ImportRejected as exc:
                path.unlink(missing_ok=True)
                context.update(_issues_context(exc))
            else:
                context["report"] = report
                context["pending"] = _sign_pending(request, "territory", token, name)
    context["form"] = form
    return render(request, "grids/import_territory.html", context)


def _run_territory(path: Path, name: str, township_code, actor, *, dry_run: bool):
    table = read_table(data=path.read_bytes(), filename=name, columns=TERRITORY_COLUMNS)
    return territory_import(actor=actor, table=table, township_code=township_code, dry_run=dry_run)


def _roster_village(scope: UserScope, request: HttpRequest) -> Village | None:
    """The village being imported: village staff have only their own; a foreign id is a 404."""
    raw = request.POST.get("village") or request.GET.get("village") or ""
    villages = scope.villages().order_by("code")
    if not raw:
        return villages.first() if scope.is_village_staff else None
    if parse_id(raw) is None:
        raise Http404
    village = villages.filter(pk=parse_id(raw)).first()
    if village is None:
        raise Http404
    return village


@login_required
def roster_import_page(request: HttpRequest) -> HttpResponse:
    """Village staff import their own village's roster; township staff any village of theirs."""
    scope = scope_of(request.user)
    if not (scope.is_township or scope.is_village_staff):
        raise PermissionDenied
    village = _roster_village(scope, request)
    form = UploadForm()
    context: dict = {
        "columns": ROSTER_COLUMNS,
        "village": village,
        "villages": scope.villages().order_by("code") if scope.is_township else [],
    }
    if request.method == "POST" and village is None:
        messages.error(request, _("请先选择要导入的村"))
    elif request.method == "POST" and "confirm" in request.POST:
        path, name = _load_pending(request, "roster", village.pk)
        try:
            report = _run_roster(path, name, village, request.user, dry_run=False)
        except ImportRejected as exc:
            context.update(_issues_context(exc))
        else:
            path.unlink(missing_ok=True)
            messages.success(request, _roster_summary(report))
            return redirect(f"{request.path}?village={village.pk}")
    elif request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            token, name = _store_pending(form.cleaned_data["file"])
            path = _pending_dir() / token
            try:
                report = _run_roster(path, name, village, request.user, dry_run=True)
            except ImportRejected as exc:
                path.unlink(missing_ok=True)
                context.update(_issues_context(exc))
            else:
                context["report"] = report
                context["pending"] = _sign_pending(request, "roster", token, name, village.pk)
    context["form"] = form
    return render(request, "grids/import_roster.html", context)


def _run_roster(path: Path, name: str, village: Village, actor, *, dry_run: bool):
    table = read_table(data=path.read_bytes(), filename=name, columns=ROSTER_COLUMNS)
    return roster_import(actor=actor, village=village, table=table, dry_run=dry_run)


def _issues_context(exc: ImportRejected) -> dict:
    return {
        "issues": exc.issues[:MAX_ISSUES_SHOWN],
        "issue_count": len(exc.issues),
        "issues_truncated": len(exc.issues) > MAX_ISSUES_SHOWN,
    }


def _territory_summary(report) -> str:
    return _("区划导入完成：村新增%(vc)d、更新%(vu)d；网格新增%(gc)d、更新%(gu)d、未变%(gn)d") % {
        "vc": report.villages.created,
        "vu": report.villages.updated,
        "gc": report.grids.created,
        "gu": report.grids.updated,
        "gn": report.grids.unchanged,
    }


def _roster_summary(report) -> str:
    return _(
        "花名册导入完成：户新增%(hc)d、更新%(hu)d、未变%(hn)d；村民新增%(rc)d、更新%(ru)d、未变%(rn)d；"
        "新任联户代表%(pc)d"
    ) % {
        "hc": report.households.created,
        "hu": report.households.updated,
        "hn": report.households.unchanged,
        "rc": report.residents.created,
        "ru": report.residents.updated,
        "rn": report.residents.unchanged,
        "pc": report.representatives.created,
    }

"""Staff report pages: 月度分析 (village / township), 季度点评, background jobs and Excel exports."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from grids.access import UserScope, scope_of
from grids.models import Township, Village
from grids.pii_logging import redact
from points.lists import previous_quarter, quarter_bounds

from . import analysis, jobs, services, svg_charts
from .models import JobRun, MonthlyReport, QuarterlyReview, RepresentativeHonour, Request

# Lazy: read in the language of each request, not the one active when the module was imported.
KIND_LABELS = dict(Request.Kind.choices)
LEVEL_LABELS = {**dict(Request.Level.choices), "untriaged": gettext_lazy("未分流")}
STATUS_LABELS = dict(Request.Status.choices)


def _scope(request: HttpRequest) -> UserScope:
    scope = scope_of(request.user)
    if not (scope.is_township or scope.is_village_staff):
        raise PermissionDenied
    return scope


class PeriodNotFound(Exception):
    """A month or quarter in the URL that is malformed or out of range: a 404 that says why."""


def _month(value: str) -> dt.date:
    try:
        return analysis.parse_month(value)
    except ValidationError as exc:
        raise PeriodNotFound(" ".join(exc.messages)) from exc


def _quarter(value: str) -> str:
    try:
        quarter_bounds(value)
    except ValidationError as exc:
        raise PeriodNotFound(" ".join(exc.messages)) from exc
    return value


def _period_not_found(request: HttpRequest, exc: PeriodNotFound) -> HttpResponse:
    return render(request, "governance/reports/not_found.html", {"message": str(exc)}, status=404)


def _townships(request: HttpRequest, scope: UserScope) -> tuple[Township, list[Township]]:
    """The township a township-level page shows, and the ones the user may choose from.

    Township staff have their own; a superuser chooses with ``?township=<code>`` (the first
    by code when none is given). A code the user may not see is a 404.
    """
    if not scope.is_township:
        raise Http404
    townships = Township.objects.order_by("code")
    if not scope.is_superuser:
        townships = townships.filter(pk=scope.township_id)
    choices = list(townships)
    wanted = request.GET.get("township")
    chosen = next((t for t in choices if t.code == wanted), None) if wanted else None
    if wanted and chosen is None:
        raise Http404
    if chosen is None:
        if not choices:
            raise Http404
        chosen = choices[0]
    return chosen, choices


def _job_notes(job_runs) -> None:
    """What a clerk reads about a run waiting in the queue, and its error with personal
    information masked (older runs stored it as it came)."""
    for job in job_runs:
        job.note = ""
        if job.status == JobRun.Status.QUEUED and job.error == jobs.BROKER_DOWN_NOTE:
            job.note = _("消息队列暂不可用，任务已保存，恢复后将自动运行。")
        elif job.status == JobRun.Status.QUEUED and job.error == jobs.WORKER_LOST_NOTE:
            job.note = _("上次运行中断（工作进程退出），任务已重新排队，将自动重做。")
        job.error_text = redact(job.error) if job.status == JobRun.Status.FAILED else ""


@login_required
def reports_index(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    villages = list(scope.villages().order_by("code"))
    reports = (
        MonthlyReport.objects.filter(scope.village_q("village") | Q_township(scope))
        .select_related("village", "township")
        .order_by("-month", "village__code")[:60]
    )
    job_runs = list(jobs.jobs_visible_to(scope)[:10])
    _job_notes(job_runs)
    last_month = analysis.previous_month(timezone.localdate())
    return render(
        request,
        "governance/reports/index.html",
        {
            "scope": scope,
            "villages": villages,
            "reports": reports,
            "job_runs": job_runs,
            "default_month": f"{last_month:%Y-%m}",
            "default_quarter": previous_quarter(timezone.localdate()),
        },
    )


def Q_township(scope: UserScope):  # noqa: N802 - reads like the Q objects it is combined with
    from django.db.models import Q

    if scope.is_township:
        return Q(village__isnull=True) & (
            Q() if scope.is_superuser else Q(township_id=scope.township_id)
        )
    return Q(pk__in=[])


@login_required
@require_POST
def reports_run(request: HttpRequest) -> HttpResponse:
    """Queue a monthly analysis or a quarterly list publication for the user's area."""
    scope = _scope(request)
    kind = request.POST.get("kind")
    params: dict = {}
    if scope.is_village_staff:
        params["village"] = Village.objects.values_list("code", flat=True).get(pk=scope.village_id)
    elif not scope.is_superuser:
        params["township"] = Township.objects.values_list("code", flat=True).get(
            pk=scope.township_id
        )
    area = params.get("village") or params.get("township")
    try:
        if kind == JobRun.Kind.MONTHLY:
            month = analysis.parse_month(request.POST.get("month", ""))
            params["month"] = f"{month:%Y-%m}"
            key = jobs.monthly_key(month, area)
        elif kind == JobRun.Kind.LISTS:
            quarter = request.POST.get("quarter", "")
            quarter_bounds(quarter)
            params["quarter"] = quarter
            key = jobs.quarterly_key(quarter, area)
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("staff:reports")
    job, created = jobs.job_request(kind=kind, key=key, params=params, requested_by=request.user)
    if not created:
        messages.info(request, _("同一任务正在运行，已为您打开它的进度"))
    return redirect("staff:job_detail", pk=job.pk)


@login_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Any staff whose area the run covers may watch it: the clerk who started it, a second
    clerk sent here by "already running", township staff watching beat's run."""
    scope = _scope(request)
    job = get_object_or_404(jobs.jobs_visible_to(scope), pk=pk)
    _job_notes([job])
    return render(request, "governance/reports/job.html", {"job": job})


def _village_report(scope: UserScope, month: dt.date, village_id: int) -> MonthlyReport:
    village = get_object_or_404(scope.villages(), pk=village_id)
    report = MonthlyReport.objects.filter(village=village, month=month).first()
    if report is None:
        raise Http404
    report.place = village.name
    return report


def _township_report(township: Township, month: dt.date) -> MonthlyReport:
    report = MonthlyReport.objects.filter(
        township=township, village__isnull=True, month=month
    ).first()
    if report is None:
        raise Http404
    report.township = township
    report.place = township.name
    return report


def _charts(fig: dict, month: dt.date) -> dict:
    compare_keys = [
        ("visits", _("走访次数")),
        ("visited_households", _("走访覆盖户")),
        ("requests", _("受理诉求")),
        ("resolved", _("办结")),
        ("resolved_in_grid", _("网格内化解")),
        ("overdue", _("超期")),
    ]
    previous = fig.get("previous", {})
    return {
        "compare": svg_charts.compare_chart(
            [(label, fig.get(key), previous.get(key)) for key, label in compare_keys],
            title=_("本月与上月"),
            current_label=f"{month:%Y-%m}",
            previous_label=f"{analysis.previous_month(month):%Y-%m}",
        ),
        "categories": svg_charts.bar_chart(
            fig.get("hot_categories", []), title=_("热点诉求类别"), colour="#dc3545"
        ),
        "kinds": svg_charts.bar_chart(
            [(KIND_LABELS.get(k, k), n) for k, n in fig.get("by_kind", {}).items()],
            title=_("诉求类型"),
            colour="#198754",
        ),
        "villages": svg_charts.bar_chart(
            [(v["name"], v["coverage"]) for v in fig.get("villages", [])],
            title=_("各村走访覆盖率"),
            unit="%",
        )
        if fig.get("villages")
        else "",
    }


def _tables(fig: dict) -> list[tuple[str, list[str], list[list]]]:
    """Every table of the page, as (title, header, rows): the page and the Excel export share it."""
    change = fig.get("change", {})
    key_rows = [
        (_("户数"), fig["households"], None),
        (_("走访次数"), fig["visits"], change.get("visits")),
        (_("走访覆盖户数"), fig["visited_households"], change.get("visited_households")),
        (_("走访覆盖率(%)"), fig["coverage"], change.get("coverage")),
        (_("在任代表"), fig["representatives"], None),
        (_("本月有走访的代表"), fig["active_representatives"], None),
        (_("受理诉求(件)"), fig["requests"], change.get("requests")),
        (_("办结(件)"), fig["resolved"], change.get("resolved")),
        (_("网格内化解(件)"), fig["resolved_in_grid"], change.get("resolved_in_grid")),
        (_("上报升级(件)"), fig["escalated"], None),
        (_("超期(件)"), fig["overdue"], change.get("overdue")),
        (_("平均办结天数"), fig["avg_days_to_resolve"], None),
        (_("回访满意率(%)"), fig["satisfaction_rate"], change.get("satisfaction_rate")),
        (_("咨询答复(件)"), fig["consultations_answered"], None),
        (_("加分"), fig["points_awarded"], change.get("points_awarded")),
        (_("扣分"), fig["points_deducted"], None),
        (_("兑换积分"), fig["points_redeemed"], None),
        (_("召开会议(次)"), fig["meetings_held"], change.get("meetings_held")),
        (_("到会人次"), fig["attendance"], None),
        (_("签署村规民约承诺户数"), fig["committed_households"], None),
        (_("承诺覆盖率(%)"), fig["commitment_coverage"], None),
    ]
    tables = [
        (_("主要指标"), [_("指标"), _("本月"), _("较上月")], [list(r) for r in key_rows]),
        (
            _("诉求分类"),
            [_("分类"), _("项目"), _("件数")],
            [[_("类型"), KIND_LABELS.get(k, k), n] for k, n in fig["by_kind"].items()]
            + [[_("类别"), k, n] for k, n in fig["by_category"].items()]
            + [[_("层级"), LEVEL_LABELS.get(k, k), n] for k, n in fig["by_level"].items()]
            + [[_("当前状态"), STATUS_LABELS.get(k, k), n] for k, n in fig["by_status"].items()],
        ),
        (
            _("红旗网格员"),
            [_("名次"), _("姓名"), _("网格"), _("得分"), _("覆盖率"), _("化解率"), _("满意率")],
            [
                [
                    i,
                    r["name"],
                    r.get("village", "") + r["grid"],
                    r["score"],
                    r["coverage"],
                    r["resolution"],
                    r["satisfaction"],
                ]
                for i, r in enumerate(fig["red_flag"], start=1)
            ],
        ),
        (
            _("本月未走访的代表"),
            [_("姓名"), _("网格")],
            [[r["name"], r.get("village", "") + r["grid"]] for r in fig["needing_attention"]],
        ),
    ]
    if fig.get("villages"):
        tables.append(
            (
                _("各村对比"),
                [
                    _("村"),
                    _("走访"),
                    _("覆盖率(%)"),
                    _("诉求"),
                    _("办结"),
                    _("网格内化解"),
                    _("超期"),
                    _("满意率(%)"),
                ],
                [
                    [
                        v["name"],
                        v["visits"],
                        v["coverage"],
                        v["requests"],
                        v["resolved"],
                        v["resolved_in_grid"],
                        v["overdue"],
                        v["satisfaction_rate"],
                    ]
                    for v in fig["villages"]
                ],
            )
        )
    return tables


def _xlsx(filename: str, tables) -> HttpResponse:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for title, header, rows in tables:
        sheet = workbook.create_sheet(title=str(title)[:31])
        sheet.append([str(h) for h in header])
        for row in rows:
            sheet.append(
                ["" if c is None else c if isinstance(c, int | float) else str(c) for c in row]
            )
    buffer = BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _export(request, *, report: str, period: str, place, filename: str, tables) -> HttpResponse:
    """The Excel file, after the audit row that says who took it (the tables name people)."""
    services.report_export_record(
        actor=request.user,
        report=report,
        period=period,
        place=place,
        rows=sum(len(rows) for _title, _header, rows in tables),
    )
    return _xlsx(filename, tables)


def _monthly_page(
    request, report: MonthlyReport, month: dt.date, export_name: str, townships=()
) -> HttpResponse:
    fig = report.figures
    tables = _tables(fig)
    if request.GET.get("format") == "xlsx":
        return _export(
            request,
            report="monthly",
            period=f"{month:%Y-%m}",
            place=report.village if report.village_id else report.township,
            filename=export_name,
            tables=tables,
        )
    return render(
        request,
        "governance/reports/monthly.html",
        {
            "report": report,
            "fig": fig,
            "month": month,
            "charts": _charts(fig, month),
            "tables": tables,
            "cards": _cards(fig),
            "townships": townships,
        },
    )


def _cards(fig: dict) -> list[tuple[str, object, object, str]]:
    change = fig.get("change", {})
    return [
        (_("走访覆盖率"), fig["coverage"], change.get("coverage"), "%"),
        (_("受理诉求"), fig["requests"], change.get("requests"), _("件")),
        (_("网格内化解"), fig["resolved_in_grid"], change.get("resolved_in_grid"), _("件")),
        (_("超期"), fig["overdue"], change.get("overdue"), _("件")),
        (_("满意率"), fig["satisfaction_rate"], change.get("satisfaction_rate"), "%"),
        (_("召开会议"), fig["meetings_held"], change.get("meetings_held"), _("次")),
    ]


@login_required
def monthly_village(request: HttpRequest, month: str, village_id: int) -> HttpResponse:
    scope = _scope(request)
    try:
        day = _month(month)
    except PeriodNotFound as exc:
        return _period_not_found(request, exc)
    report = _village_report(scope, day, village_id)
    return _monthly_page(request, report, day, f"monthly-{month}-{village_id}.xlsx")


@login_required
def monthly_township(request: HttpRequest, month: str) -> HttpResponse:
    scope = _scope(request)
    try:
        day = _month(month)
    except PeriodNotFound as exc:
        return _period_not_found(request, exc)
    township, townships = _townships(request, scope)
    report = _township_report(township, day)
    return _monthly_page(
        request, report, day, f"monthly-{month}-{township.code}.xlsx", townships=townships
    )


REVIEW_COLUMNS = (
    ("rank", gettext_lazy("名次")),
    ("name", gettext_lazy("村")),
    ("households", gettext_lazy("户数")),
    ("visits", gettext_lazy("走访")),
    ("visits_per_household", gettext_lazy("户均走访")),
    ("requests", gettext_lazy("诉求")),
    ("resolved", gettext_lazy("办结")),
    ("resolved_in_grid", gettext_lazy("网格内化解")),
    ("grid_resolution_rate", gettext_lazy("网格化解率(%)")),
    ("overdue", gettext_lazy("超期")),
    ("satisfaction_rate", gettext_lazy("满意率(%)")),
    ("meetings_held", gettext_lazy("会议")),
    ("points_awarded", gettext_lazy("加分")),
    ("red_list", gettext_lazy("红榜户数")),
    ("black_list", gettext_lazy("黑榜户数")),
    ("months", gettext_lazy("已生成月报")),
)


@login_required
def quarterly_review(request: HttpRequest, quarter: str) -> HttpResponse:
    scope = _scope(request)
    if not scope.is_township:
        raise Http404
    try:
        _quarter(quarter)
    except PeriodNotFound as exc:
        return _period_not_found(request, exc)
    township, townships = _townships(request, scope)
    stored = QuarterlyReview.objects.filter(township=township, quarter=quarter).first()
    if stored:
        figures = stored.figures
        # The list sizes are read live: a withdrawal or an upheld objection since the job ran
        # (a new revision) must show here, not the sizes frozen in the stored review.
        sizes = analysis.quarter_list_sizes(township=township, quarter=quarter)
        for row in figures["villages"]:
            row.update(sizes[row["id"]])
    else:
        figures = analysis.township_quarter_review(township=township, quarter=quarter)
    rows = [[row.get(key) for key, _label in REVIEW_COLUMNS] for row in figures["villages"]]
    header = [str(label) for _key, label in REVIEW_COLUMNS]
    if request.GET.get("format") == "xlsx":
        return _export(
            request,
            report="quarterly",
            period=quarter,
            place=township,
            filename=f"review-{quarter}-{township.code}.xlsx",
            tables=[(_("季度点评"), header, rows)],
        )
    honours = RepresentativeHonour.objects.filter(
        village__township=township, period=quarter, title=RepresentativeHonour.Title.EXCELLENT
    ).select_related("village", "representative__resident", "representative__grid")
    return render(
        request,
        "governance/reports/quarterly.html",
        {
            "township": township,
            "townships": townships,
            "quarter": quarter,
            "stored": stored,
            "header": header,
            "rows": rows,
            "honours": honours,
        },
    )

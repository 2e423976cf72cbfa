"""Background jobs: a JobRun row claimed by exactly one worker, with progress staff can watch.

- ``job_request`` creates the run (or returns the one already queued/running for the same key:
  a partial unique index allows one active run per key) and enqueues its task on commit.
- ``job_execute`` claims the run with a conditional UPDATE (queued → running, or a running run
  whose heartbeat is older than the task time limit: its worker died). Only the worker whose
  UPDATE changed the row runs it; a duplicate delivery of the same message finds nothing to claim.
- The work is split into units (a village, then the township); each unit is its own
  transaction, so a worker killed half-way loses only the unit it was in, and a rerun redoes
  everything with identical results (every unit replaces its snapshot / skips a published list).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
import traceback

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.access import UserScope
from grids.models import Township, Village
from grids.pii_logging import redact

from . import analysis
from .models import JobRun, QuarterlyReview, RepresentativeHonour, Request, RequestEvent

logger = logging.getLogger(__name__)

ACTIVE = (JobRun.Status.QUEUED, JobRun.Status.RUNNING)


def stale_after() -> dt.timedelta:
    """A running job with no heartbeat for this long lost its worker and may be claimed again."""
    seconds = int(os.environ.get("JOBS_STALE_AFTER_SECONDS") or settings.CELERY_TASK_TIME_LIMIT)
    return dt.timedelta(seconds=seconds)


def _unit_pause() -> None:
    """Drill/test knob: JOBS_UNIT_DELAY_SECONDS slows every unit (used to kill a worker mid-job)."""
    delay = float(os.environ.get("JOBS_UNIT_DELAY_SECONDS") or 0)
    if delay:
        time.sleep(delay)


# --- keys ---------------------------------------------------------------------------------------


def monthly_key(month: dt.date, village_code: str | None = None) -> str:
    key = f"monthly:{month:%Y-%m}"
    return f"{key}:{village_code}" if village_code else key


def quarterly_key(quarter: str, village_code: str | None = None) -> str:
    key = f"lists:{quarter}"
    return f"{key}:{village_code}" if village_code else key


# --- request, claim, execute --------------------------------------------------------------------


def _task_for(kind: str):
    from . import tasks

    return {JobRun.Kind.MONTHLY: tasks.run_job, JobRun.Kind.LISTS: tasks.run_job}[kind]


def job_schedule(*, kind: str, key: str, params: dict) -> JobRun:
    """A beat entry's run: one per key. A second beat firing the same entry (two beats started
    by mistake, or a restarted beat catching up) gets the run the first made, whether it is
    still queued, running or done; only a failed run is tried again."""
    earlier = (
        JobRun.objects.filter(key=key, requested_by__isnull=True)
        .exclude(status=JobRun.Status.FAILED)
        .order_by("-created_at", "-pk")
        .first()
    )
    if earlier is not None:
        return earlier
    return job_request(kind=kind, key=key, params=params)[0]


def job_request(*, kind: str, key: str, params: dict, requested_by=None) -> tuple[JobRun, bool]:
    """Queue a run; if one is already queued or running for ``key`` return it instead."""
    with transaction.atomic():
        active = JobRun.objects.filter(key=key, status__in=ACTIVE).first()
        if active:
            return active, False
        try:
            with transaction.atomic():
                job = JobRun.objects.create(
                    kind=kind,
                    key=key,
                    params=params,
                    requested_by=requested_by if getattr(requested_by, "pk", None) else None,
                )
        except IntegrityError:
            return JobRun.objects.get(key=key, status__in=ACTIVE), False
        transaction.on_commit(lambda: job_enqueue(job_id=job.pk, kind=kind))
    return job, True


# A job saved while the broker is down waits as "queued" with this note; the requeue sweep
# (beat, every few minutes) sends it again once the broker answers.
BROKER_DOWN_NOTE = "消息队列暂时不可用：任务已保存，恢复后自动执行。"
# A running job whose worker died, handed back to the queue by the sweep.
WORKER_LOST_NOTE = "上次运行的工作进程已中断，任务已重新排队，将从头重做。"
REQUEUE_AFTER = dt.timedelta(minutes=5)


def job_enqueue(*, job_id: int, kind: str) -> bool:
    """Send the job to the broker; a broker outage is recorded on the job, never raised."""
    try:
        _task_for(kind).delay(job_id)
    except Exception as exc:  # noqa: BLE001 - kombu/redis raise many kinds of connection error
        logger.warning(
            "job %s could not be queued (%s); it waits for the requeue sweep", job_id, exc
        )
        JobRun.objects.filter(pk=job_id, status=JobRun.Status.QUEUED).update(error=BROKER_DOWN_NOTE)
        return False
    JobRun.objects.filter(pk=job_id, status=JobRun.Status.QUEUED, error=BROKER_DOWN_NOTE).update(
        error=""
    )
    return True


def jobs_requeue_waiting(*, now: dt.datetime | None = None) -> int:
    """The beat sweep (every few minutes): send again the runs nobody is working on.

    - A running run whose heartbeat is older than the task time limit lost its worker (the
      hard time limit would have ended it by now at the latest): it goes back to "queued".
    - A queued run older than REQUEUE_AFTER was lost in a broker outage (or its message was).

    Each run is taken with one conditional UPDATE (for a queued run ``heartbeat_at`` records
    when it was last sent), so of two sweeps at the same moment only one sends it, and a run is
    sent at most once per REQUEUE_AFTER. An extra delivery would be harmless anyway: the
    worker's claim lets one delivery run it.
    """
    now = now or timezone.now()
    stale = Q(status=JobRun.Status.RUNNING, heartbeat_at__lt=now - stale_after())
    waiting = Q(status=JobRun.Status.QUEUED, created_at__lt=now - REQUEUE_AFTER) & (
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - REQUEUE_AFTER)
    )
    sent = 0
    for job_id, kind, status in JobRun.objects.filter(stale | waiting).values_list(
        "pk", "kind", "status"
    ):
        lost = status == JobRun.Status.RUNNING
        changes = {"status": JobRun.Status.QUEUED, "error": WORKER_LOST_NOTE} if lost else {}
        taken = JobRun.objects.filter(stale | waiting, pk=job_id, status=status).update(
            heartbeat_at=now, **changes
        )
        if taken != 1:
            continue  # another sweep took it a moment ago, or its worker has just finished
        if lost:
            logger.warning("job %s lost its worker; it is queued again", job_id)
        sent += job_enqueue(job_id=job_id, kind=kind)
    return sent


def job_claim(job_id: int) -> bool:
    """queued → running (or re-claim a stale running job). True only for the one winner."""
    now = timezone.now()
    claimable = Q(status=JobRun.Status.QUEUED) | Q(
        status=JobRun.Status.RUNNING, heartbeat_at__lt=now - stale_after()
    )
    return (
        JobRun.objects.filter(claimable, pk=job_id).update(
            status=JobRun.Status.RUNNING,
            started_at=now,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            error="",
        )
        == 1
    )


def jobs_visible_to(scope: UserScope) -> QuerySet[JobRun]:
    """The runs whose area the user's scope covers, newest first.

    A village's run: that village's staff and its township's. A township's run: its staff. A
    run over every township (beat's, or a superuser's): township staff too, since it computes
    their township. Superusers see every run.
    """
    runs = JobRun.objects.annotate(
        area_village=KT("params__village"), area_town=KT("params__township")
    )
    if scope.is_superuser:
        return runs
    if scope.is_township:
        return runs.filter(
            Q(area_village__in=Village.objects.filter(township_id=scope.township_id).values("code"))
            | Q(area_town__in=Township.objects.filter(pk=scope.township_id).values("code"))
            | Q(area_village__isnull=True, area_town__isnull=True)
        )
    if scope.is_village_staff:
        return runs.filter(
            area_village__in=Village.objects.filter(pk=scope.village_id).values("code")
        )
    return runs.none()


def _progress(job_id: int):
    def report(done: int, total: int) -> None:
        JobRun.objects.filter(pk=job_id).update(done=done, total=total, heartbeat_at=timezone.now())

    return report


def job_execute(job_id: int) -> bool:
    """Run the job if this worker wins the claim. Returns whether it ran to the end."""
    if not job_claim(job_id):
        logger.info("job %s already claimed or finished; nothing to do", job_id)
        return False
    job = JobRun.objects.get(pk=job_id)
    try:
        RUNNERS[job.kind](job.params, _progress(job_id))
    except Exception as exc:
        logger.exception("job %s (%s) failed", job_id, job.key)
        # The text may quote data (a ValidationError naming a 手机号): stored redacted.
        JobRun.objects.filter(pk=job_id).update(
            status=JobRun.Status.FAILED,
            finished_at=timezone.now(),
            error=redact(f"{exc}\n{traceback.format_exc()[-2000:]}"),
        )
        return False
    JobRun.objects.filter(pk=job_id).update(
        status=JobRun.Status.DONE, finished_at=timezone.now(), heartbeat_at=timezone.now()
    )
    return True


# --- runners ------------------------------------------------------------------------------------


def run_monthly(params: dict, progress=None) -> int:
    """Monthly analysis for every village (or one), then the townships, then 红旗网格员."""
    month = analysis.parse_month(params["month"])
    units = analysis.monthly_analysis_units(
        month=month, village_code=params.get("village"), township_code=params.get("township")
    )
    total = len(units)
    run = analysis.MonthlyRun(units, month)
    for done, unit in enumerate(units, start=1):
        report = run.run_unit(unit)
        if unit[0] == "village":
            # The snapshot's 红旗网格员 are the month's honours: the same ranking, not redone.
            honours_store(
                village=unit[1], period=f"{month:%Y-%m}", ranked=report.figures["red_flag"]
            )
        _unit_pause()
        if progress:
            progress(done, total)
    return total


def run_lists(params: dict, progress=None) -> int:
    """Quarterly lists per village (each theme its own transaction), then the township review."""
    from points.lists import ListsRun, quarter_bounds

    quarter = params["quarter"]
    quarter_bounds(quarter)
    villages = analysis.villages_for_run(
        village_code=params.get("village"), township_code=params.get("township")
    )
    townships = {v.township_id: v.township for v in villages}
    total = len(villages) + len(townships)
    done = 0
    run = ListsRun(villages, quarter)
    for village in villages:
        run.publish(village)
        honours_store(village=village, period=quarter)
        done += 1
        _unit_pause()
        if progress:
            progress(done, total)
    for township in townships.values():
        quarterly_review_store(township=township, quarter=quarter)
        done += 1
        if progress:
            progress(done, total)
    return total


RUNNERS = {JobRun.Kind.MONTHLY: run_monthly, JobRun.Kind.LISTS: run_lists}


# --- honours and the quarterly review -----------------------------------------------------------


def honours_rank(*, village: Village, period: str) -> list[dict]:
    """The village's best representatives of the month ('YYYY-MM') or quarter ('YYYYQn')."""
    if "Q" in period:
        months = analysis.quarter_months(period)
        start, end = analysis.month_bounds(months[0])[0], analysis.month_bounds(months[-1])[1]
        start_day, end_day = months[0], analysis.next_month(months[-1])
    else:
        month = analysis.parse_month(period)
        start, end = analysis.month_bounds(month)
        start_day, end_day = month, analysis.next_month(month)
    return analysis._red_flag([village.pk], start, end, start_day, end_day).get(village.pk, [])


@transaction.atomic
def honours_store(
    *, village: Village, period: str, ranked: list[dict] | None = None
) -> list[RepresentativeHonour]:
    """红旗网格员 (period 'YYYY-MM') or 优秀村民代表 (period 'YYYYQn'): replace the village's list.

    ``ranked`` is the ranking already computed for the period (the monthly snapshot's
    ``red_flag``); without it the ranking is computed here.
    """
    title = (
        RepresentativeHonour.Title.EXCELLENT
        if "Q" in period
        else RepresentativeHonour.Title.RED_FLAG
    )
    if ranked is None:
        ranked = honours_rank(village=village, period=period)
    RepresentativeHonour.objects.filter(village=village, title=title, period=period).delete()
    return RepresentativeHonour.objects.bulk_create(
        RepresentativeHonour(
            village=village,
            representative_id=item["id"],
            title=title,
            period=period,
            rank=position,
            score=item["score"],
            figures=item,
        )
        for position, item in enumerate(ranked, start=1)
    )


@transaction.atomic
def quarterly_review_store(*, township, quarter: str) -> QuarterlyReview:
    figures = analysis.township_quarter_review(township=township, quarter=quarter)
    review, _created = QuarterlyReview.objects.update_or_create(
        township=township,
        quarter=quarter,
        defaults={"figures": figures, "generated_at": timezone.now()},
    )
    return review


# --- exports ------------------------------------------------------------------------------------


# --- overdue sweep ------------------------------------------------------------------------------


def overdue_sweep(now: dt.datetime | None = None) -> int:
    """Record one "overdue" event on each request that became overdue since its deadline.

    Idempotent: a request already carrying an overdue event at or after its current deadline is
    skipped, so the daily sweep (or a rerun) never records it twice; a new deadline (after a
    reopen) makes it eligible again. The township's 督办 list shows overdue requests already.
    """
    from .selectors import overdue_q

    now = now or timezone.now()
    already = RequestEvent.objects.filter(
        request=OuterRef("pk"), action="overdue", at__gte=OuterRef("deadline")
    )
    with transaction.atomic():
        rows = list(
            Request.objects.filter(overdue_q(now))
            .exclude(Exists(already))
            .select_for_update(skip_locked=True)
            .values_list("pk", "status")
        )
        RequestEvent.objects.bulk_create(
            RequestEvent(
                request_id=pk,
                actor=None,
                at=now,
                action="overdue",
                from_status=status,
                to_status=status,
                note=_("已超过办理期限，系统自动列入督办"),
            )
            for pk, status in rows
        )
    return len(rows)

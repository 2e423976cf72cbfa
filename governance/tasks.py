"""Celery tasks: one line each, calling the services with ids (the commands run the same)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from . import analysis, jobs
from .models import JobRun


@shared_task(acks_late=True)
def run_job(job_id: int) -> bool:
    """Run a queued JobRun; a duplicate delivery finds it claimed and does nothing."""
    return jobs.job_execute(job_id)


@shared_task(acks_late=True)
def monthly_analysis_scheduled() -> int:
    """Beat, 01:00 on the 1st: queue the analysis of the month that just ended."""
    month = analysis.previous_month(timezone.localdate())
    return jobs.job_schedule(
        kind=JobRun.Kind.MONTHLY, key=jobs.monthly_key(month), params={"month": f"{month:%Y-%m}"}
    ).pk


@shared_task(acks_late=True)
def quarter_lists_scheduled() -> int:
    """Beat, 02:00 on the first day of a quarter: queue the lists of the quarter that ended."""
    from points.lists import previous_quarter

    quarter = previous_quarter(timezone.localdate())
    return jobs.job_schedule(
        kind=JobRun.Kind.LISTS, key=jobs.quarterly_key(quarter), params={"quarter": quarter}
    ).pk


@shared_task(acks_late=True)
def overdue_sweep() -> int:
    """Daily: mark newly overdue requests for supervision (idempotent)."""
    return jobs.overdue_sweep()


@shared_task(acks_late=True)
def requeue_waiting_jobs() -> int:
    """Every few minutes: send again the jobs a broker outage kept from being queued and the
    running jobs whose worker died (heartbeat older than the time limit)."""
    return jobs.jobs_requeue_waiting()

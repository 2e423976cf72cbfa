"""Redis (the broker) down: staff can still ask for a job; it waits in the database, says why,
and the requeue sweep sends it once the broker is back."""

import datetime as dt

import pytest
from django.utils import timezone

from governance import jobs
from governance.celery import app
from governance.models import JobRun

pytestmark = pytest.mark.django_db(transaction=True)

DEAD_BROKER = "redis://127.0.0.1:6399/0"  # nothing listens there


def _switch_broker(**conf) -> None:
    """Point the app at another broker, dropping the connections it already holds."""
    app.conf.update(**conf)
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker_down():
    saved = {"broker_url": app.conf.broker_url, "task_always_eager": app.conf.task_always_eager}
    _switch_broker(broker_url=DEAD_BROKER, task_always_eager=False)
    yield
    _switch_broker(**saved)


def test_job_request_survives_broker_outage_and_runs_when_it_returns(
    broker_down, village, ledger_flush_allowed
):
    job, created = jobs.job_request(
        kind=JobRun.Kind.MONTHLY, key="monthly:2026-10", params={"month": "2026-10"}
    )

    job.refresh_from_db()
    assert created
    assert job.status == JobRun.Status.QUEUED
    assert job.error == jobs.BROKER_DOWN_NOTE

    # The broker comes back (eager stands in for the worker here).
    _switch_broker(broker_url="memory://", task_always_eager=True)
    JobRun.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(minutes=10))

    assert jobs.jobs_requeue_waiting() == 1
    job.refresh_from_db()
    assert job.status == JobRun.Status.DONE
    assert job.error == ""


def test_requeue_leaves_recent_and_finished_jobs_alone(village):
    recent = JobRun.objects.create(
        kind=JobRun.Kind.MONTHLY, key="monthly:2026-09", params={"month": "2026-09"}
    )
    done = JobRun.objects.create(
        kind=JobRun.Kind.MONTHLY,
        key="monthly:2026-08",
        params={"month": "2026-08"},
        status=JobRun.Status.DONE,
    )
    JobRun.objects.filter(pk=done.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))

    assert jobs.jobs_requeue_waiting() == 0
    recent.refresh_from_db()
    assert recent.status == JobRun.Status.QUEUED

"""Both jobs through the broker on a real Celery worker (the faults: tests/ops/test_worker_faults.py)."""

import datetime as dt
import time

import pytest

from governance import analysis, jobs
from governance.models import JobRun, MonthlyReport
from points.models import ListPublication
from tests.jobs.data import build_month
from tests.jobs.factories import award, households_with_heads
from tests.worker import celery_worker, require_broker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

OCT = dt.date(2026, 10, 1)


@pytest.fixture
def through_the_broker():
    """The test process enqueues for real (tests.settings runs tasks eagerly otherwise)."""
    from governance.celery import app

    require_broker()
    before = app.conf.task_always_eager
    app.conf.task_always_eager = False
    app.control.purge()
    yield
    app.conf.task_always_eager = before


def wait_for(job_id, statuses=("done", "failed"), timeout=90, until=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = JobRun.objects.get(pk=job_id)
        if (until and until(job)) or (not until and job.status in statuses):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} stuck: {JobRun.objects.get(pk=job_id).__dict__}")


def test_real_worker_runs_the_monthly_analysis_and_the_lists(
    through_the_broker, village, grid, village_clerk, township, ledger_flush_allowed
):
    build_month(village, grid, village_clerk)
    a, b = households_with_heads(grid, 2)
    award(village_clerk, [a], 50, dt.date(2026, 8, 3))
    award(village_clerk, [b], 20, dt.date(2026, 8, 3))
    with celery_worker() as worker:
        monthly, _ = jobs.job_request(
            kind="monthly", key="monthly:2026-10", params={"month": "2026-10"}
        )
        lists, _ = jobs.job_request(kind="lists", key="lists:2026Q3", params={"quarter": "2026Q3"})
        monthly = wait_for(monthly.pk)
        lists = wait_for(lists.pk)
        log = worker.log_path.read_text()
    assert (monthly.status, lists.status) == ("done", "done"), log[-3000:]
    stored = MonthlyReport.objects.get(village=village, month=OCT).figures
    fresh = analysis.village_figures([village.pk], OCT)[village.pk]
    assert {k: stored[k] for k in analysis.ADDITIVE} == {k: fresh[k] for k in analysis.ADDITIVE}
    assert MonthlyReport.objects.filter(village__isnull=True, month=OCT).count() == 1
    pub = ListPublication.objects.get(village=village, quarter="2026Q3")
    assert [e.household_id for e in pub.entries.order_by("rank")] == [a.pk, b.pk]

"""Faults with a real worker, a real broker and real beats (issue 8): a worker killed with
SIGKILL half-way, a task delivered twice, two beats firing the same entry. Nobody re-sends
anything by hand: what brings a job back is what runs in production (beat's sweep).

These need PostgreSQL and Redis; in CI (CI=true) they fail rather than skip without them.
"""

import datetime as dt
import os
import re
import signal
import time

import pytest
from django.utils import timezone

from governance import analysis, jobs, tasks
from governance.models import JobRun, MonthlyReport
from points.lists import previous_quarter, quarter_bounds
from points.models import ListEntry, ListPublication
from tests.factories import GridFactory, VillageFactory
from tests.jobs.data import build_month
from tests.jobs.factories import award, households_with_heads
from tests.worker import celery_beat, celery_worker, require_broker

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
    yield app
    app.control.purge()
    app.conf.task_always_eager = before


def wait_for(job_id, statuses=("done", "failed"), timeout=90, until=None, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = JobRun.objects.get(pk=job_id)
        if (until and until(job)) or (not until and job.status in statuses):
            return job
        time.sleep(0.2)
    tail = log.read_text()[-3000:] if log else ""
    raise AssertionError(f"job {job_id} stuck: {JobRun.objects.get(pk=job_id).__dict__}\n{tail}")


def test_a_worker_killed_mid_job_is_recovered_by_the_sweep_without_a_resend(
    through_the_broker, township, village, grid, village_clerk, ledger_flush_allowed
):
    # given a slow monthly run (a second per village, six units) on a worker
    build_month(village, grid, village_clerk)
    for i in range(4):
        extra = VillageFactory(township=township, code=f"4309031062{i + 10}")
        GridFactory(village=extra, code=f"{extra.code}001")
    with celery_worker(env={"JOBS_UNIT_DELAY_SECONDS": "1"}, name="doomed") as doomed:
        job, _ = jobs.job_request(
            kind="monthly", key="monthly:2026-10", params={"month": "2026-10"}
        )
        wait_for(job.pk, until=lambda j: j.done >= 2, log=doomed.log_path)
        # when the worker is killed with SIGKILL half-way (its message is never acknowledged)
        os.killpg(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=10)
    killed = JobRun.objects.get(pk=job.pk)
    assert killed.status == "running" and 2 <= killed.done < killed.total == 6
    # and a new worker starts beside beat, whose 5-minute sweep fires every second here and
    # treats a heartbeat older than 3 s as a dead worker (in production: the task time limit)
    recovery = {"JOBS_STALE_AFTER_SECONDS": "3"}
    with (
        celery_worker(env=recovery, name="recovery") as worker,
        celery_beat(entries=["requeue-waiting-jobs"]),
    ):
        finished = wait_for(job.pk, log=worker.log_path)
        log = worker.log_path.read_text()
    # then the run completes every village and the township, nobody having sent it again
    assert (finished.status, finished.done, finished.total, finished.attempts) == ("done", 6, 6, 2)
    assert "lost its worker" in log
    assert MonthlyReport.objects.filter(month=OCT).count() == 6
    stored = MonthlyReport.objects.get(village=village, month=OCT).figures
    assert stored == analysis.village_report_store(village=village, month=OCT).figures


def test_the_same_task_delivered_twice_to_a_real_worker_runs_once(
    through_the_broker, village, grid, village_clerk, ledger_flush_allowed
):
    # given a queued run whose message the broker delivers twice (same task id), to a worker
    # with two processes so that both deliveries are taken at the same time
    build_month(village, grid, village_clerk)
    job = JobRun.objects.create(kind="monthly", key="monthly:2026-10", params={"month": "2026-10"})
    message_id = f"run-job-{job.pk}"
    with celery_worker(concurrency=2, env={"JOBS_UNIT_DELAY_SECONDS": "1"}) as worker:
        tasks.run_job.apply_async((job.pk,), task_id=message_id)
        tasks.run_job.apply_async((job.pk,), task_id=message_id)
        finished = wait_for(job.pk, log=worker.log_path)
        deadline = time.monotonic() + 30
        while (
            len(
                re.findall(
                    rf"run_job\[{message_id}\] succeeded", log := worker.log_path.read_text()
                )
            )
            < 2
        ):
            assert time.monotonic() < deadline, log[-3000:]
            time.sleep(0.2)
    # then exactly one delivery ran the job; the other found it claimed and did nothing
    results = sorted(re.findall(rf"run_job\[{message_id}\] succeeded in [^:]+: (\w+)", log))
    assert results == ["False", "True"], log[-3000:]
    assert (finished.status, finished.attempts, finished.done) == ("done", 1, 2)
    assert log.count("already claimed or finished") == 1
    assert MonthlyReport.objects.filter(month=OCT).count() == 2


def test_two_beats_firing_the_quarter_entry_make_one_run_and_one_publication(
    through_the_broker, village, grid, village_clerk, township, ledger_flush_allowed
):
    # given last quarter's points in a village
    quarter = previous_quarter(timezone.localdate())
    day = quarter_bounds(quarter)[0] + dt.timedelta(days=10)
    a, b, c = households_with_heads(grid, 3)
    award(village_clerk, [a], 50, day)
    award(village_clerk, [b, c], 20, day)
    # when two beats (two machines started by mistake) both fire the quarter-lists entry,
    # every second for six seconds, to a worker with two processes
    with celery_worker(concurrency=2) as worker:
        with (
            celery_beat(entries=["quarter-lists"], name="beat-a") as beat_a,
            celery_beat(entries=["quarter-lists"], name="beat-b") as beat_b,
        ):
            time.sleep(8)
        sent = [beat.log_path.read_text().count("Sending due task") for beat in (beat_a, beat_b)]
        deadline = time.monotonic() + 60
        while JobRun.objects.filter(status__in=["queued", "running"]).exists():
            assert time.monotonic() < deadline, worker.log_path.read_text()[-3000:]
            time.sleep(0.2)
        time.sleep(1)  # let the last scheduled messages be taken
        log = worker.log_path.read_text()
    fired = len(re.findall(r"quarter_lists_scheduled\[[^\]]+\] succeeded", log))
    # then both beats fired the entry again and again, the worker ran every firing, and there
    # is one run, done, and one publication
    assert min(sent) >= 2 and fired == sum(sent), (sent, fired, log[-3000:])
    runs = list(JobRun.objects.values_list("key", "status"))
    assert runs == [(f"lists:{quarter}", "done")]
    assert ListPublication.objects.filter(village=village, quarter=quarter).count() == 1
    assert list(
        ListEntry.objects.filter(publication__village=village)
        .order_by("rank", "household_id")
        .values_list("household_id", "rank")
    ) == [(a.pk, 1), (b.pk, 2), (c.pk, 2)]

"""JobRun machinery: claims, duplicate delivery, stale re-claim, failures, idempotent reruns."""

import contextlib
import datetime as dt
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from governance import jobs, tasks
from governance.models import (
    JobRun,
    MonthlyReport,
    QuarterlyReview,
    RepresentativeHonour,
    RequestEvent,
)
from points.models import ListEntry, ListPublication
from tests.jobs.data import at, build_month, make_request
from tests.jobs.factories import award, households_with_heads

OCT = dt.date(2026, 10, 1)


def queued(kind="monthly", key="monthly:2026-10", params=None):
    return JobRun.objects.create(kind=kind, key=key, params=params or {"month": "2026-10"})


def test_only_one_claim_wins(db):
    job = queued()
    assert jobs.job_claim(job.pk) is True
    assert jobs.job_claim(job.pk) is False
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("running", 1)


def test_a_stale_running_job_can_be_claimed_again(db):
    job = queued()
    assert jobs.job_claim(job.pk)
    JobRun.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - jobs.stale_after() - dt.timedelta(seconds=1)
    )
    assert jobs.job_claim(job.pk) is True
    assert JobRun.objects.get(pk=job.pk).attempts == 2


def test_a_finished_job_is_never_claimed_again(db):
    job = queued()
    JobRun.objects.filter(pk=job.pk).update(status="done", started_at=timezone.now())
    assert jobs.job_claim(job.pk) is False


def test_duplicate_delivery_runs_the_job_once(village, grid, village_clerk):
    build_month(village, grid, village_clerk)
    job = queued()
    assert tasks.run_job(job.pk) is True
    generated = MonthlyReport.objects.get(village=village, month=OCT).generated_at
    assert tasks.run_job(job.pk) is False  # the broker delivered the message a second time
    assert MonthlyReport.objects.get(village=village, month=OCT).generated_at == generated
    job.refresh_from_db()
    assert (job.status, job.done, job.total) == ("done", 2, 2)


def test_running_the_analysis_twice_gives_the_same_snapshot(village, grid, village_clerk, township):
    build_month(village, grid, village_clerk)
    call_command("run_monthly_analysis", month="2026-10")
    first = {r.pk: r.figures for r in MonthlyReport.objects.all()}
    honours = list(RepresentativeHonour.objects.values_list("representative_id", "rank", "score"))
    call_command("run_monthly_analysis", month="2026-10")
    assert {r.pk: r.figures for r in MonthlyReport.objects.all()} == first
    assert (
        list(RepresentativeHonour.objects.values_list("representative_id", "rank", "score"))
        == honours
    )
    assert len(first) == 2  # the village and the township
    assert RepresentativeHonour.objects.filter(title="red_flag", period="2026-10").count() == 2


def test_one_active_job_per_key(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first, created = jobs.job_request(
            kind="monthly", key="monthly:2026-10", params={"month": "2026-10"}
        )
        second, again = jobs.job_request(
            kind="monthly", key="monthly:2026-10", params={"month": "2026-10"}
        )
    assert (created, again, first.pk) == (True, False, second.pk)
    assert len(callbacks) == 1  # enqueued once, after commit


def test_a_failing_job_is_marked_failed_with_its_error(db):
    job = queued(params={"month": "2026-13"})
    assert jobs.job_execute(job.pk) is False
    job.refresh_from_db()
    assert job.status == "failed" and "YYYY-MM" in job.error


def test_quarterly_job_twice_publishes_once_and_stores_the_review(
    village, grid, village_clerk, township
):
    a, b = households_with_heads(grid, 2)
    award(village_clerk, [a, b], 30, dt.date(2026, 8, 1))
    call_command("publish_quarter_lists", quarter="2026Q3")
    call_command("publish_quarter_lists", quarter="2026Q3", village=village.code)
    assert ListPublication.objects.filter(village=village, quarter="2026Q3").count() == 1
    assert ListEntry.objects.filter(publication__village=village).count() == 2
    review = QuarterlyReview.objects.get(township=township, quarter="2026Q3")
    assert [v["red_list"] for v in review.figures["villages"]] == [2]


@pytest.mark.django_db(transaction=True)
def test_racing_claims_from_threads_only_one_wins(ledger_flush_allowed):
    job = queued()
    barrier = threading.Barrier(6)
    results = []

    def claim():
        from django.db import connection as thread_connection

        barrier.wait()
        try:
            results.append(jobs.job_claim(job.pk))
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 5 + [True]


def test_overdue_sweep_records_each_newly_overdue_request_once(village, grid, village_clerk):
    from tests.factories import representative_user

    rep = representative_user(grid, households=2)
    h1, h2 = rep.households.order_by("pk")
    late = make_request(village, rep, h1, at(2026, 10, 1), deadline=at(2026, 10, 4))
    make_request(village, rep, h2, at(2026, 10, 1), deadline=at(2026, 12, 1))
    now = at(2026, 10, 10)
    assert jobs.overdue_sweep(now) == 1
    assert jobs.overdue_sweep(now + dt.timedelta(days=1)) == 0
    assert list(
        RequestEvent.objects.filter(action="overdue").values_list("request_id", flat=True)
    ) == [late.pk]


def test_beat_entries_queue_and_run_the_previous_month_and_quarter(
    village, django_capture_on_commit_callbacks
):
    from governance import analysis
    from points.lists import previous_quarter

    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        monthly_id = tasks.monthly_analysis_scheduled()
        lists_id = tasks.quarter_lists_scheduled()
    monthly, lists = JobRun.objects.get(pk=monthly_id), JobRun.objects.get(pk=lists_id)
    assert monthly.key == f"monthly:{analysis.previous_month(today):%Y-%m}"
    assert lists.key == f"lists:{previous_quarter(today)}"
    assert (monthly.status, lists.status) == ("done", "done")


def test_beat_schedule_names_real_tasks():
    from django.conf import settings

    from governance.celery import app

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks


@pytest.mark.django_db(transaction=True)
def test_two_workers_publishing_the_same_list_publish_it_once(
    village, grid, village_clerk, ledger_flush_allowed
):
    from points.lists import village_lists_publish

    households = households_with_heads(grid, 3)
    award(village_clerk, households, 25, dt.date(2026, 8, 1))
    barrier = threading.Barrier(4)
    published, errors = [], []
    # PostgreSQL: a real race (the unique index makes the losers fall back to the winner's list).
    # SQLite serialises writers (BEGIN IMMEDIATE on the file database); its in-memory test
    # database cannot wait for a lock, so there the four publishers take turns.
    turns = threading.Lock() if connection.vendor == "sqlite" else contextlib.nullcontext()

    def publish():
        from django.db import connection as thread_connection

        barrier.wait()
        try:
            with turns:
                pub = village_lists_publish(village=village, quarter="2026Q3")[0]
            published.append(pub.pk)
        except Exception as exc:  # noqa: BLE001 - any error is the failure being tested
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=publish) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(published)) == 1
    assert ListPublication.objects.filter(village=village, quarter="2026Q3").count() == 1
    assert ListEntry.objects.filter(publication__village=village).count() == 3


def test_bench_command_runs_on_a_small_township(db, capsys):
    call_command("bench_reports", villages=2, households=20, code="439999002")
    out = capsys.readouterr().out
    assert "40户，160次走访，80件诉求" in out
    assert "月度分析：3份快照" in out and "季度红黑榜：3项" in out
    assert MonthlyReport.objects.filter(village__township__code="439999002").count() == 2


# --- the sweep: runs whose worker died, runs lost in a broker outage ---------------------------


def gone_silent(job, *, seconds_past_the_limit=1):
    """The run was claimed, then its worker died: the heartbeat stopped."""
    assert jobs.job_claim(job.pk)
    JobRun.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now()
        - jobs.stale_after()
        - dt.timedelta(seconds=seconds_past_the_limit)
    )


def test_the_sweep_runs_again_a_job_whose_worker_died(village, grid, village_clerk):
    # given a run whose worker died after claiming it (nobody will deliver it again)
    build_month(village, grid, village_clerk)
    job = queued()
    gone_silent(job)
    # when the beat sweep comes by, then the run is queued again and completes (eager worker)
    assert jobs.jobs_requeue_waiting() == 1
    job.refresh_from_db()
    assert (job.status, job.attempts, job.done, job.total, job.error) == ("done", 2, 2, 2, "")
    assert MonthlyReport.objects.filter(month=OCT).count() == 2


def test_the_sweep_leaves_a_run_with_a_recent_heartbeat_alone(db):
    job = queued()
    assert jobs.job_claim(job.pk)
    JobRun.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - dt.timedelta(minutes=9))
    assert jobs.jobs_requeue_waiting() == 0
    assert JobRun.objects.get(pk=job.pk).status == "running"


def test_a_stale_run_handed_back_says_so_until_a_worker_takes_it(db, monkeypatch):
    sent = []
    monkeypatch.setattr(jobs, "_task_for", lambda kind: type("T", (), {"delay": sent.append}))
    job = queued()
    gone_silent(job)
    assert jobs.jobs_requeue_waiting() == 1
    job.refresh_from_db()
    assert (job.status, job.error, sent) == ("queued", jobs.WORKER_LOST_NOTE, [job.pk])


def test_a_second_sweep_right_after_the_first_sends_nothing(db, monkeypatch):
    # given a dead run and a run lost in a broker outage
    sent = []
    monkeypatch.setattr(jobs, "_task_for", lambda kind: type("T", (), {"delay": sent.append}))
    dead = queued()
    gone_silent(dead)
    lost = queued(key="monthly:2026-09", params={"month": "2026-09"})
    JobRun.objects.filter(pk=lost.pk).update(created_at=timezone.now() - dt.timedelta(minutes=6))
    now = timezone.now()
    # when two sweeps (two beats) come by at the same moment, then each run is sent once
    assert jobs.jobs_requeue_waiting(now=now) == 2
    assert jobs.jobs_requeue_waiting(now=now) == 0
    assert sorted(sent) == sorted([dead.pk, lost.pk])


def test_a_queued_run_is_sent_again_at_most_once_per_interval(db, monkeypatch):
    sent = []
    monkeypatch.setattr(jobs, "_task_for", lambda kind: type("T", (), {"delay": sent.append}))
    job = queued()
    JobRun.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(minutes=20))
    now = timezone.now()
    assert jobs.jobs_requeue_waiting(now=now) == 1
    assert jobs.jobs_requeue_waiting(now=now + dt.timedelta(minutes=1)) == 0
    assert jobs.jobs_requeue_waiting(now=now + jobs.REQUEUE_AFTER + dt.timedelta(seconds=1)) == 1
    assert sent == [job.pk, job.pk]


@pytest.mark.django_db(transaction=True)
def test_racing_sweeps_from_threads_send_a_dead_run_once(ledger_flush_allowed, monkeypatch):
    sent = []
    monkeypatch.setattr(jobs, "_task_for", lambda kind: type("T", (), {"delay": sent.append}))
    job = queued()
    gone_silent(job)
    barrier = threading.Barrier(4)
    turns = threading.Lock() if connection.vendor == "sqlite" else contextlib.nullcontext()

    def sweep():
        from django.db import connection as thread_connection

        barrier.wait()
        try:
            with turns:
                jobs.jobs_requeue_waiting()
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sent == [job.pk]


# --- beat entries: one run per entry and period -------------------------------------------------


def test_a_second_beat_firing_the_same_entry_gets_the_first_run(
    village, grid, village_clerk, django_capture_on_commit_callbacks
):
    a, b = households_with_heads(grid, 2)
    award(village_clerk, [a, b], 30, dt.date(2026, 8, 1))
    with django_capture_on_commit_callbacks(execute=True):
        first = tasks.quarter_lists_scheduled()
    assert JobRun.objects.get(pk=first).status == "done"
    # a second beat (or a restarted one catching up) fires the same entry after the run is done
    with django_capture_on_commit_callbacks(execute=True):
        second = tasks.quarter_lists_scheduled()
    assert second == first and JobRun.objects.count() == 1
    assert ListPublication.objects.filter(village=village).count() == 1


def test_a_failed_scheduled_run_is_tried_again_by_the_next_firing(db):
    failed = JobRun.objects.create(
        kind="monthly", key=f"monthly:{jobs.analysis.previous_month(timezone.localdate()):%Y-%m}"
    )
    JobRun.objects.filter(pk=failed.pk).update(status="failed", started_at=timezone.now())
    assert tasks.monthly_analysis_scheduled() != failed.pk


def test_a_clerks_run_does_not_stand_in_for_beats(db, township_staff):
    month = jobs.analysis.previous_month(timezone.localdate())
    clerk_run, _ = jobs.job_request(
        kind="monthly",
        key=jobs.monthly_key(month),
        params={"month": f"{month:%Y-%m}"},
        requested_by=township_staff,
    )
    # while the clerk's run is under way, beat joins it (one active run per key) ...
    assert jobs.job_schedule(kind="monthly", key=clerk_run.key, params={}).pk == clerk_run.pk
    # ... but a finished one does not count as the schedule's run of the month
    JobRun.objects.filter(pk=clerk_run.pk).update(status="done", started_at=timezone.now())
    assert tasks.monthly_analysis_scheduled() != clerk_run.pk


# --- every job has a command ----------------------------------------------------------------------


def test_the_overdue_sweep_command_marks_each_overdue_request_once(
    village, grid, village_clerk, capsys
):
    from tests.factories import representative_user

    rep = representative_user(grid, households=1)
    late = make_request(
        village, rep, rep.households.get(), at(2026, 10, 1), deadline=at(2026, 10, 4)
    )
    call_command("mark_overdue_requests")
    call_command("mark_overdue_requests")
    assert list(
        RequestEvent.objects.filter(action="overdue").values_list("request_id", flat=True)
    ) == [late.pk]
    out = capsys.readouterr().out
    assert "1件" in out and "0件" in out


def test_the_requeue_command_sends_a_dead_run_again(village, grid, village_clerk, capsys):
    build_month(village, grid, village_clerk)
    job = queued()
    gone_silent(job)
    call_command("requeue_stale_jobs")
    assert JobRun.objects.get(pk=job.pk).status == "done"
    assert "1" in capsys.readouterr().out

"""Who may watch a run's progress, what a waiting run says, and the errors it stores."""

import pytest
from django.urls import reverse

from governance import jobs
from governance.models import JobRun
from grids.models import Role
from tests.factories import TownshipFactory, UserFactory, VillageFactory, user_with_scope

PHONE, ID_NUMBER = "13900001111", "430903197001011234"


def village_run(village, **fields):
    return JobRun.objects.create(
        kind="monthly",
        key=f"monthly:2026-10:{village.code}",
        params={"month": "2026-10", "village": village.code},
        **fields,
    )


def beat_run(**fields):
    """What beat's monthly-analysis entry queues: every township, no requester."""
    return JobRun.objects.create(
        kind="monthly", key="monthly:2026-10", params={"month": "2026-10"}, **fields
    )


def status_of(client, job) -> int:
    return client.get(reverse("staff:job_detail", args=[job.pk])).status_code


def test_a_second_clerk_starting_the_same_run_is_taken_to_its_progress_page(
    village, login, django_capture_on_commit_callbacks
):
    # given a clerk who has started the village's October analysis (still queued)
    first = user_with_scope(Role.VILLAGE_STAFF, village=village, is_staff=True)
    second = user_with_scope(Role.VILLAGE_STAFF, village=village, is_staff=True)
    form = {"kind": "monthly", "month": "2026-10"}
    with django_capture_on_commit_callbacks(execute=False):
        login(first).post(reverse("staff:reports_run"), form)
        # when a second clerk of the village asks for the same run
        response = login(second).post(reverse("staff:reports_run"), form, follow=True)
    # then they land on the first clerk's run, told so, and can watch it
    assert response.status_code == 200
    body = response.content.decode()
    assert "同一任务正在运行" in body and 'id="job-status"' in body
    assert JobRun.objects.count() == 1


def test_township_staff_watch_their_villages_runs_and_beats_run(
    village, township_staff, login, superuser
):
    client = login(township_staff)
    assert status_of(client, village_run(village)) == 200
    scheduled = beat_run()
    assert status_of(client, scheduled) == 200
    assert status_of(login(superuser), scheduled) == 200
    # and the staff list shows beat's run, though nobody of theirs started it
    body = client.get(reverse("staff:reports")).content.decode()
    assert "monthly:2026-10" in body and "定时任务" in body


def test_a_run_is_404_for_staff_whose_area_it_does_not_cover(
    village, other_village, village_clerk, login
):
    run = village_run(village, requested_by=village_clerk)
    other_clerk = user_with_scope(Role.VILLAGE_STAFF, village=other_village, is_staff=True)
    elsewhere = TownshipFactory(code="430903999")
    VillageFactory(township=elsewhere, code="430903999201")
    outsider = user_with_scope(Role.TOWNSHIP_STAFF, township=elsewhere, is_staff=True)
    township_run = JobRun.objects.create(
        kind="lists",
        key=f"lists:2026Q3:{village.township.code}",
        params={"quarter": "2026Q3", "township": village.township.code},
    )
    assert status_of(login(village_clerk), run) == 200
    assert status_of(login(other_clerk), run) == 404
    assert status_of(login(outsider), run) == 404
    assert status_of(login(outsider), township_run) == 404
    assert status_of(login(village_clerk), township_run) == 404  # a township's run
    assert status_of(login(village_clerk), beat_run()) == 404  # every township's run
    assert (
        "monthly:2026-10:" not in login(other_clerk).get(reverse("staff:reports")).content.decode()
    )


def test_a_run_waiting_for_the_broker_says_so_on_its_page_and_in_the_list(
    village, village_clerk, login
):
    run = village_run(village, requested_by=village_clerk, error=jobs.BROKER_DOWN_NOTE)
    client = login(village_clerk)
    page = client.get(reverse("staff:job_detail", args=[run.pk])).content.decode()
    assert "消息队列暂不可用" in page and "恢复后将自动运行" in page
    assert "消息队列暂不可用" in client.get(reverse("staff:reports")).content.decode()


def test_a_run_queued_again_after_its_worker_died_says_so(village, village_clerk, login):
    run = village_run(village, requested_by=village_clerk, error=jobs.WORKER_LOST_NOTE)
    page = login(village_clerk).get(reverse("staff:job_detail", args=[run.pk])).content.decode()
    assert "已重新排队" in page


def test_a_failed_runs_error_is_stored_with_personal_information_masked(
    village, village_clerk, login, monkeypatch
):
    # given a run whose work fails with a message quoting a 手机号 and a 身份证号
    def fail(params, progress=None):
        raise ValueError(f"居民电话{PHONE}，身份证{ID_NUMBER}重复")

    monkeypatch.setitem(jobs.RUNNERS, JobRun.Kind.MONTHLY, fail)
    run = village_run(village, requested_by=village_clerk)
    # when it runs, then the stored error and the page keep only the masked forms
    assert jobs.job_execute(run.pk) is False
    run.refresh_from_db()
    assert run.status == "failed" and "139****1111" in run.error
    assert PHONE not in run.error and ID_NUMBER not in run.error
    page = login(village_clerk).get(reverse("staff:job_detail", args=[run.pk])).content.decode()
    assert "139****1111" in page and PHONE not in page


def test_an_error_stored_unmasked_before_is_masked_on_the_page(village, village_clerk, login):
    run = village_run(village, requested_by=village_clerk)
    JobRun.objects.filter(pk=run.pk).update(
        status="failed", started_at=run.created_at, error=f"{PHONE} {ID_NUMBER}"
    )
    page = login(village_clerk).get(reverse("staff:job_detail", args=[run.pk])).content.decode()
    assert PHONE not in page and ID_NUMBER not in page and "430903********1234" in page


@pytest.fixture
def superuser(db):
    return UserFactory(is_superuser=True, is_staff=True)

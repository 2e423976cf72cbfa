"""The representative's phone pages: visits, requests, follow-up, notices, work list."""

import datetime as dt
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from governance import services
from governance.models import NoticeDelivery, Request, WorkListDone
from grids.models import Visit
from grids.services import visit_record
from tests.governance.factories import in_progress, report, resolved, triaged

# The phone pages carry their own ~5 KB stylesheet instead of Bootstrap.
PAGE_BUDGET = 100 * 1024


def jpeg(width=3000, height=2000) -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", (width, height), (120, 160, 90)).save(buffer, format="JPEG", quality=95)
    return SimpleUploadedFile("photo.jpg", buffer.getvalue(), content_type="image/jpeg")


def test_home_lists_priority_households_first_then_longest_unvisited(representative, login):
    households = list(representative.households.order_by("pk"))
    lonely = households[3]
    lonely.tags, lonely.priority = ["独居老人"], True
    lonely.save()
    now = timezone.now()
    for days, household in zip([1, 10, 5], households[:3], strict=True):
        visit_record(
            actor=representative.user,
            representative=representative,
            household=household,
            method="phone",
            visited_at=now - dt.timedelta(days=days),
        )
    response = login(representative.user).get(reverse("rep:home"))
    assert response.status_code == 200
    rows = [row.household for row in response.context["households"]]
    never_visited = [h for h in households[4:]]
    assert rows[0] == lonely
    assert rows[1:3] == never_visited
    assert rows[3:] == [households[1], households[2], households[0]]
    overdue = {row.household for row in response.context["households"] if row.visit_overdue}
    assert overdue == {lonely, *never_visited, households[1]}
    assert "visit-overdue" in response.content.decode()


def test_home_is_under_100_kb_with_its_stylesheet(representative, login):
    from django.contrib.staticfiles import finders

    response = login(representative.user).get(reverse("rep:home"))
    html = response.content.decode()
    assert "bootstrap" not in html
    css = finders.find("governance/rep.css")
    with open(css, "rb") as handle:
        css_size = len(handle.read())
    assert len(response.content) + css_size < PAGE_BUDGET


def test_log_visit_then_record_request_from_it(representative, login):
    client = login(representative.user)
    household = representative.households.first()
    response = client.post(
        reverse("rep:visit_new"),
        {"household": household.pk, "method": "in_person", "note": "老人腿脚不便"},
    )
    visit = Visit.objects.get()
    assert response.url == reverse("rep:visit_done", args=[visit.pk])
    assert visit.representative == representative and visit.latitude is None

    response = client.post(
        reverse("rep:request_new") + f"?visit={visit.pk}",
        {
            "household": household.pk,
            "kind": "request",
            "title": "申请临时救助",
            "proposed_level": "village",
        },
    )
    request = Request.objects.get()
    assert response.url == reverse("rep:visit_done", args=[visit.pk])
    assert request.source_visit == visit and request.proposed_level == "village"
    page = client.get(reverse("rep:visit_done", args=[visit.pk])).content.decode()
    assert "申请临时救助" in page


def test_visit_with_photo_and_location_is_resized(representative, login, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    household = representative.households.first()
    login(representative.user).post(
        reverse("rep:visit_new"),
        {
            "household": household.pk,
            "method": "wechat",
            "photo": jpeg(),
            "latitude": "27.700123",
            "longitude": "111.990456",
        },
    )
    visit = Visit.objects.get()
    assert str(visit.latitude) == "27.700123"
    with Image.open(visit.photo.path) as image:
        assert max(image.size) == 1280


def test_visit_errors_are_in_chinese_and_keep_typed_note(representative, login):
    response = login(representative.user).post(
        reverse("rep:visit_new"), {"household": "", "method": "phone", "note": "已打电话"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "请选择农户" in html
    assert "已打电话" in html
    assert not Visit.objects.exists()


def test_not_an_image_is_refused_next_to_the_field(representative, login):
    household = representative.households.first()
    response = login(representative.user).post(
        reverse("rep:visit_new"),
        {
            "household": household.pk,
            "method": "phone",
            "note": "备注保留",
            "photo": SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg"),
        },
    )
    html = response.content.decode()
    assert "请上传照片" in html and "备注保留" in html
    assert not Visit.objects.exists()


def test_cannot_log_visit_for_another_reps_household(representative, other_rep, login):
    foreign = other_rep.households.first()
    response = login(representative.user).post(
        reverse("rep:visit_new"), {"household": foreign.pk, "method": "phone"}
    )
    assert response.status_code == 200
    assert "请选择自己联系的农户" in response.content.decode()
    assert not Visit.objects.exists()


def test_dispute_form_keeps_input_and_asks_for_parties(representative, login):
    household = representative.households.first()
    response = login(representative.user).post(
        reverse("rep:request_new"),
        {
            "household": household.pk,
            "kind": "dispute",
            "title": "宅基地边界",
            "mediators": "王主任",
            "proposed_level": "grid",
        },
    )
    html = response.content.decode()
    assert "矛盾纠纷请填写当事人" in html
    assert "宅基地边界" in html and "王主任" in html
    assert not Request.objects.exists()


def test_follow_request_start_progress_resolve_and_feedback(representative, village_clerk, login):
    request = triaged(representative, village_clerk)
    client = login(representative.user)
    url = lambda action: reverse("rep:request_action", args=[request.pk, action])  # noqa: E731
    assert client.post(url("start")).status_code == 302
    client.post(url("progress"), {"note": "已联系电工"})
    client.post(url("resolve"), {"note": "换了灯泡"})
    request.refresh_from_db()
    assert request.status == Request.Status.RESOLVED
    client.post(url("return_visit"), {"satisfaction": "satisfied", "note": "满意"})
    request.refresh_from_db()
    assert request.status == Request.Status.CLOSED
    page = client.get(reverse("rep:request_detail", args=[request.pk])).content.decode()
    for text in ("已联系电工", "换了灯泡", "满意"):
        assert text in page


def test_resolve_without_note_shows_error_and_changes_nothing(representative, village_clerk, login):
    request = in_progress(representative, village_clerk)
    response = login(representative.user).post(
        reverse("rep:request_action", args=[request.pk, "resolve"]), {"note": ""}
    )
    assert response.status_code == 400
    assert "请填写办理结果" in response.content.decode()
    request.refresh_from_db()
    assert request.status == Request.Status.IN_PROGRESS


def test_illegal_transition_shows_chinese_error(representative, village_clerk, login):
    request = resolved(representative, village_clerk)
    client = login(representative.user)
    response = client.post(reverse("rep:request_action", args=[request.pk, "start"]), follow=True)
    assert "不能开始办理" in response.content.decode()


def test_representative_cannot_see_or_act_on_other_grids_request(
    representative, other_rep, village_clerk, login
):
    theirs = report(other_rep)
    client = login(representative.user)
    assert client.get(reverse("rep:request_detail", args=[theirs.pk])).status_code == 404
    response = client.post(
        reverse("rep:request_action", args=[theirs.pk, "progress"]), {"note": "x"}
    )
    assert response.status_code == 404
    assert theirs.events.count() == 1


def test_representative_cannot_open_other_reps_visit(representative, other_rep, login):
    visit = visit_record(
        actor=other_rep.user,
        representative=other_rep,
        household=other_rep.households.first(),
        method="phone",
    )
    client = login(representative.user)
    assert client.get(reverse("rep:visit_done", args=[visit.pk])).status_code == 404
    assert client.get(reverse("rep:request_new") + f"?visit={visit.pk}").status_code == 404


def test_staff_get_403_on_rep_pages(village_clerk, login):
    assert login(village_clerk).get(reverse("rep:home")).status_code == 403


def test_consultation_answered_from_phone(representative, login):
    request = report(representative, kind="consultation", title="低保怎么申请")
    login(representative.user).post(
        reverse("rep:request_action", args=[request.pk, "answer"]), {"note": "带户口本到村部"}
    )
    request.refresh_from_db()
    assert request.status == Request.Status.CLOSED


def test_notice_confirmed_per_household(representative, village_clerk, other_rep, login):
    notice = services.notice_publish(
        actor=village_clerk, title="防汛通知", body="近期暴雨", village=representative.grid.village
    )
    household = representative.households.first()
    client = login(representative.user)
    page = client.get(reverse("rep:notice_list")).content.decode()
    assert "防汛通知" in page
    client.post(reverse("rep:notice_confirm", args=[notice.pk]), {"household": household.pk})
    client.post(reverse("rep:notice_confirm", args=[notice.pk]), {"household": household.pk})
    assert NoticeDelivery.objects.filter(notice=notice).count() == 1
    foreign = other_rep.households.first()
    response = client.post(
        reverse("rep:notice_confirm", args=[notice.pk]), {"household": foreign.pk}
    )
    assert response.status_code == 404


def test_work_list_item_marked_done_per_household(representative, village_clerk, login):
    work_list = services.work_list_publish(
        actor=village_clerk,
        village=representative.grid.village,
        month=timezone.localdate(),
        items=[("宣传医保缴费", None, True), ("清理网格内垃圾", None, False)],
    )
    per_household, per_grid = work_list.items.order_by("id")
    household = representative.households.first()
    client = login(representative.user)
    client.post(reverse("rep:work_item_done", args=[per_household.pk]), {"household": household.pk})
    client.post(reverse("rep:work_item_done", args=[per_grid.pk]))
    assert WorkListDone.objects.filter(item=per_household, household=household).exists()
    assert WorkListDone.objects.filter(item=per_grid, household__isnull=True).exists()
    home = client.get(reverse("rep:home"))
    rows = {row.item.pk: row for row in home.context["work_items"]}
    assert rows[per_household.pk].done_households == 1
    assert rows[per_grid.pk].done_for_grid


@pytest.mark.parametrize(
    "name", ["rep:home", "rep:visit_new", "rep:request_new", "rep:request_list", "rep:notice_list"]
)
def test_anonymous_is_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/accounts/login/" in response.url

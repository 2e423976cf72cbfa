"""When a service refuses an action for who is acting, the page says the service's reason in
Chinese (not the generic 403 page) and nothing changes."""

from django.urls import reverse

from governance.models import Request, Supervision
from tests.governance.factories import report, triaged


def test_staff_refusal_shows_the_services_reason_on_the_request_page(
    representative, village_clerk, login
):
    # Given a request the village clerk may see, when the clerk posts 督办 (township staff only)
    request = report(representative, title="水渠堵塞")
    response = login(village_clerk).post(
        reverse("staff:request_action", args=[request.pk, "supervise"]), {"note": "请尽快办理"}
    )
    # Then the request page says why, keeps the note, and nothing is written.
    html = response.content.decode()
    assert response.status_code == 403
    assert "只有乡镇工作人员可以督办" in html
    assert "水渠堵塞" in html
    assert not Supervision.objects.exists()


def test_staff_refusal_of_a_button_without_form_shows_the_reason(
    representative, village_clerk, department, login
):
    request = triaged(representative, village_clerk, level="township", department=department)
    response = login(village_clerk).post(
        reverse("staff:request_action", args=[request.pk, "start"])
    )
    assert response.status_code == 403
    assert "您不是该诉求的经办人" in response.content.decode()
    request.refresh_from_db()
    assert request.status == Request.Status.TRIAGED


def test_rep_refusal_shows_the_services_reason_on_the_phone_page(
    representative, village_clerk, login
):
    # Given a request triaged to the village, when its representative posts 开始办理 directly
    request = triaged(representative, village_clerk, level="village", title="村道坑洼")
    response = login(representative.user).post(
        reverse("rep:request_action", args=[request.pk, "start"])
    )
    html = response.content.decode()
    assert response.status_code == 403
    assert "您不是该诉求的经办人" in html and "村道坑洼" in html
    request.refresh_from_db()
    assert request.status == Request.Status.TRIAGED

"""重复件: feedback given on a duplicate, by its representative or by staff, lands on the original,
even when the original belongs to another representative; the duplicate shows the original."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from governance import services
from governance.models import Request, RequestEvent, ReturnVisit
from tests.factories import representative_user
from tests.governance.factories import report, resolved

S = Request.Status


@pytest.fixture
def original(other_rep, village_clerk):
    """Resolved at the grid by the neighbouring grid's representative, waiting for 回访."""
    return resolved(other_rep, village_clerk, title="村口水渠堵塞")


@pytest.fixture
def duplicate(representative, village_clerk, original):
    copy = report(representative, title="水渠又堵了")
    return services.request_mark_duplicate(actor=village_clerk, request=copy, original=original)


def test_rep_of_the_duplicate_gives_feedback_that_closes_the_original(
    representative, duplicate, original
):
    services.return_visit_record(
        actor=representative.user, request=duplicate, satisfaction="satisfied", note="通水了"
    )
    original.refresh_from_db()
    duplicate.refresh_from_db()
    assert original.status == S.CLOSED and original.satisfaction == "satisfied"
    visit = ReturnVisit.objects.get()
    assert visit.request == original and f"#{duplicate.pk}" in visit.note
    assert duplicate.status == S.DUPLICATE
    note = RequestEvent.objects.filter(request=duplicate, action="return_visit").get().note
    assert f"#{original.pk}" in note


def test_unsatisfied_feedback_on_a_duplicate_reopens_the_original(
    representative, duplicate, original
):
    services.return_visit_record(
        actor=representative.user, request=duplicate, satisfaction="unsatisfied"
    )
    original.refresh_from_db()
    assert original.status == S.IN_PROGRESS


def test_rep_of_another_grid_cannot_give_feedback_on_the_duplicate(grid, duplicate, original):
    from tests.factories import GridFactory

    far = representative_user(
        GridFactory(village=grid.village, code=grid.code[:-3] + "009"), households=2
    )
    with pytest.raises(PermissionDenied):
        services.return_visit_record(actor=far.user, request=duplicate, satisfaction="satisfied")
    original.refresh_from_db()
    assert original.status == S.RESOLVED and not ReturnVisit.objects.exists()


def test_duplicate_page_on_the_phone_offers_feedback_and_shows_the_original(
    representative, duplicate, original, login
):
    client = login(representative.user)
    url = reverse("rep:request_detail", args=[duplicate.pk])
    html = client.get(url).content.decode()
    assert "村口水渠堵塞" in html and "已办结待回访" in html
    assert reverse("rep:request_action", args=[duplicate.pk, "return_visit"]) in html
    # The original is another representative's: its status is shown, not a link to it.
    assert reverse("rep:request_detail", args=[original.pk]) not in html

    response = client.post(
        reverse("rep:request_action", args=[duplicate.pk, "return_visit"]),
        {"satisfaction": "basically", "note": ""},
        follow=True,
    )
    assert f"回访已记到原诉求 #{original.pk}" in response.content.decode()
    original.refresh_from_db()
    assert original.status == S.CLOSED and original.satisfaction == "basically"


def test_duplicate_page_for_staff_links_the_original_and_records_feedback_there(
    duplicate, original, village_clerk, login
):
    client = login(village_clerk)
    html = client.get(reverse("staff:request_detail", args=[duplicate.pk])).content.decode()
    assert f'href="{reverse("staff:request_detail", args=[original.pk])}"' in html
    assert reverse("staff:request_action", args=[duplicate.pk, "return_visit"]) in html
    client.post(
        reverse("staff:request_action", args=[duplicate.pk, "return_visit"]),
        {"satisfaction": "satisfied", "note": "电话回访"},
    )
    original.refresh_from_db()
    assert original.status == S.CLOSED
    assert ReturnVisit.objects.get().request == original


def test_no_feedback_form_on_a_duplicate_whose_original_is_still_open(
    representative, village_clerk, other_rep, login
):
    original = report(other_rep, title="还在办")
    copy = report(representative, title="重复")
    services.request_mark_duplicate(actor=village_clerk, request=copy, original=original)
    html = login(representative.user).get(reverse("rep:request_detail", args=[copy.pk]))
    assert "return_visit" not in html.content.decode()

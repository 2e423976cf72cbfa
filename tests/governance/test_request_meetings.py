"""A request taken to a 屋场会: linked once, same village only, on the timeline."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from deliberation.models import Meeting
from governance import services
from governance.models import RequestEvent
from tests.deliberation.factories import open_meeting
from tests.governance.factories import report

pytestmark = pytest.mark.django_db


def test_clerk_links_request_to_village_meeting_and_timeline_records_it(
    login, representative, village_clerk, village
):
    request = report(representative, title="邻里排水纠纷")
    meeting = open_meeting(
        village_clerk, village, kind=Meeting.Kind.WUCHANG, title="屋场会：排水沟"
    )
    client = login(village_clerk)

    response = client.post(
        reverse("staff:request_action", args=[request.pk, "meeting"]), {"meeting": meeting.pk}
    )

    assert response.status_code == 302
    assert list(request.meeting_links.values_list("meeting_id", flat=True)) == [meeting.pk]
    assert RequestEvent.objects.filter(request=request, action="meeting").count() == 1
    page = client.get(reverse("staff:request_detail", args=[request.pk])).content.decode()
    assert "屋场会：排水沟" in page


def test_meeting_of_another_village_is_refused(login, representative, village_clerk, other_village):
    from grids.models import Role
    from tests.factories import user_with_scope

    other_clerk = user_with_scope(Role.VILLAGE_STAFF, village=other_village)
    request = report(representative)
    foreign = open_meeting(other_clerk, other_village, title="别村会议")

    with pytest.raises(ValidationError):
        services.request_link_meeting(actor=village_clerk, request=request, meeting=foreign)
    response = login(village_clerk).post(
        reverse("staff:request_action", args=[request.pk, "meeting"]), {"meeting": foreign.pk}
    )

    assert response.status_code == 400
    assert "本村没有这个编号的会议" in response.content.decode()
    assert not request.meeting_links.exists()


def test_representative_cannot_link_meetings(representative, village_clerk, village):
    request = report(representative)
    meeting = open_meeting(village_clerk, village)

    with pytest.raises(Exception):  # noqa: B017 - PermissionDenied or ValidationError, both refuse
        services.request_link_meeting(actor=representative.user, request=request, meeting=meeting)
    assert not request.meeting_links.exists()


def test_same_meeting_twice_is_refused(representative, village_clerk, village):
    request = report(representative)
    meeting = open_meeting(village_clerk, village)
    services.request_link_meeting(actor=village_clerk, request=request, meeting=meeting)

    with pytest.raises(ValidationError):
        services.request_link_meeting(actor=village_clerk, request=request, meeting=meeting)
    assert request.meeting_links.count() == 1

"""上情下达: staff see each notice's coverage village by village and grid by grid; the
representative's notice list is paginated."""

import pytest
from django.urls import reverse
from django.utils import timezone

from governance import services
from governance.models import Notice
from grids.models import Household
from tests.factories import GridFactory, representative_user


@pytest.fixture
def far_rep(other_village):
    grid = GridFactory(village=other_village, code=other_village.code + "001", name="港口网格")
    return representative_user(grid, households=4)


def households(**where) -> int:
    return Household.objects.filter(**where).count()


def test_township_notice_shows_each_village_and_grid(
    township_staff, representative, other_rep, far_rep, grid, other_grid, village, login
):
    notice = services.notice_publish(actor=township_staff, title="防汛通知", body="注意安全")
    for household in representative.households.order_by("pk")[:3]:
        services.notice_confirm(actor=representative.user, notice=notice, household=household)
    services.notice_confirm(actor=far_rep.user, notice=notice, household=far_rep.households.first())
    response = login(township_staff).get(reverse("staff:notice_detail", args=[notice.pk]))
    villages = response.context["villages"]
    summary = [(v.place.name, v.delivered, v.target) for v in villages]
    assert summary == [
        ("长东湖村", 3, households(village=village)),
        ("注湖港村", 1, households(village=far_rep.grid.village)),
    ]
    assert [(g.place, g.delivered, g.target) for g in villages[0].parts] == [
        (grid, 3, households(grid=grid)),
        (other_grid, 0, households(grid=other_grid)),
    ]
    html = response.content.decode()
    assert "港口网格" in html and "第二网格" in html


def test_village_clerk_sees_only_own_village_of_a_township_notice(
    township_staff, village_clerk, far_rep, representative, login
):
    notice = services.notice_publish(actor=township_staff, title="全镇通知", body="内容")
    response = login(village_clerk).get(reverse("staff:notice_detail", args=[notice.pk]))
    assert [v.place.name for v in response.context["villages"]] == ["长东湖村"]


def test_village_notice_shows_its_grids_and_other_villages_notice_is_404(
    village_clerk, township_staff, other_village, representative, login
):
    mine = services.notice_publish(
        actor=village_clerk, title="本村通知", body="内容", village=representative.grid.village
    )
    theirs = services.notice_publish(
        actor=township_staff, title="别村通知", body="内容", village=other_village
    )
    client = login(village_clerk)
    response = client.get(reverse("staff:notice_detail", args=[mine.pk]))
    assert [v.place.name for v in response.context["villages"]] == ["长东湖村"]
    assert client.get(reverse("staff:notice_detail", args=[theirs.pk])).status_code == 404
    listing = client.get(reverse("staff:notice_list")).content.decode()
    assert reverse("staff:notice_detail", args=[mine.pk]) in listing


def test_rep_notice_list_is_paginated_and_confirming_returns_to_the_page(
    representative, village_clerk, login
):
    now = timezone.now()
    notices = [
        Notice.objects.create(
            township=representative.grid.village.township,
            village=representative.grid.village,
            title=f"通知{i:02d}",
            body="内容",
            published_by=village_clerk,
            published_at=now - timezone.timedelta(hours=i),
        )
        for i in range(25)
    ]
    client = login(representative.user)
    first = client.get(reverse("rep:notice_list"))
    assert [n.title for n, _rows in first.context["notices"]][:2] == ["通知00", "通知01"]
    assert len(first.context["notices"]) == 10
    last = client.get(reverse("rep:notice_list"), {"page": 3})
    assert [n.title for n, _rows in last.context["notices"]] == [
        f"通知{i:02d}" for i in range(20, 25)
    ]
    assert "第 3 / 3 页" in last.content.decode()

    on_page_two = notices[12]
    response = client.post(
        reverse("rep:notice_confirm", args=[on_page_two.pk]),
        {"household": representative.households.first().pk, "page": "2"},
    )
    assert response.url == reverse("rep:notice_list") + f"?page=2#notice-{on_page_two.pk}"

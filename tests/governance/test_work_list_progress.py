"""清单一月一制定: staff see each item's progress, in total and grid by grid; representatives tick
items from the page after a visit as well as from their home page."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from governance import selectors, services
from governance.models import WorkListDone
from grids.models import Household
from grids.services import visit_record


@pytest.fixture
def work_list(village_clerk, village, representative, other_rep):
    return services.work_list_publish(
        actor=village_clerk,
        village=village,
        month=timezone.localdate(),
        items=[("宣传医保缴费", None, True), ("清理沟渠", None, False)],
    )


def items_of(work_list):
    per_household, per_grid = work_list.items.order_by("id")
    return per_household, per_grid


def test_progress_counts_households_and_grids_item_by_item(
    work_list, representative, other_rep, grid, other_grid
):
    # Given two grids of households (the representatives' own among them)
    first, second = (Household.objects.filter(grid=g).count() for g in (grid, other_grid))
    per_household, per_grid = items_of(work_list)
    for household in representative.households.order_by("pk")[:2]:
        services.work_item_mark_done(
            actor=representative.user, item=per_household, household=household
        )
    services.work_item_mark_done(actor=other_rep.user, item=per_grid)
    # When staff read the progress
    (progress,) = selectors.work_list_progress(work_lists=[work_list])
    rows = {row.item.title: row for row in progress.items}
    # Then each item says done of total, and how each grid stands
    assert (rows["宣传医保缴费"].done, rows["宣传医保缴费"].total) == (2, first + second)
    assert [(g.grid, g.done, g.total) for g in rows["宣传医保缴费"].grids] == [
        (grid, 2, first),
        (other_grid, 0, second),
    ]
    assert (rows["清理沟渠"].done, rows["清理沟渠"].total) == (1, 2)
    assert [(g.done, g.total) for g in rows["清理沟渠"].grids] == [(0, 1), (1, 1)]


def test_staff_page_shows_progress_per_item_and_per_grid(
    work_list, representative, village_clerk, grid, other_grid, login
):
    first, second = (Household.objects.filter(grid=g).count() for g in (grid, other_grid))
    per_household, _per_grid = items_of(work_list)
    services.work_item_mark_done(
        actor=representative.user,
        item=per_household,
        household=representative.households.first(),
    )
    html = login(village_clerk).get(reverse("staff:work_lists")).content.decode()
    assert f"<strong>1/{first + second}</strong>" in html and "<strong>0/2</strong>" in html
    assert "第一网格" in html and "第二网格" in html
    assert f">1/{first}<" in html and f">0/{second}<" in html
    assert "已勾选" not in html


def test_rep_ticks_work_items_from_the_visit_done_page(work_list, representative, login):
    household = representative.households.order_by("pk").first()
    visit = visit_record(
        actor=representative.user,
        representative=representative,
        household=household,
        method="in_person",
        visited_at=timezone.now() - dt.timedelta(minutes=5),
    )
    per_household, per_grid = items_of(work_list)
    client = login(representative.user)
    page = client.get(reverse("rep:visit_done", args=[visit.pk])).content.decode()
    assert "宣传医保缴费" in page and "这户已完成" in page and "本网格已完成" in page

    response = client.post(
        reverse("rep:work_item_done", args=[per_household.pk]),
        {"household": household.pk, "visit": visit.pk},
    )
    assert response.url == reverse("rep:visit_done", args=[visit.pk]) + "#work-list"
    client.post(reverse("rep:work_item_done", args=[per_grid.pk]), {"visit": visit.pk})
    assert WorkListDone.objects.filter(item=per_household, household=household).exists()
    assert WorkListDone.objects.filter(item=per_grid, household__isnull=True).exists()
    page = client.get(reverse("rep:visit_done", args=[visit.pk])).content.decode()
    assert 'class="badge ok">这户已完成' in page and 'class="badge ok">本网格已完成' in page


def test_tick_with_someone_elses_visit_goes_back_home(work_list, representative, other_rep, login):
    other_household = other_rep.households.first()
    visit = visit_record(
        actor=other_rep.user,
        representative=other_rep,
        household=other_household,
        method="phone",
    )
    _per_household, per_grid = items_of(work_list)
    response = login(representative.user).post(
        reverse("rep:work_item_done", args=[per_grid.pk]), {"visit": visit.pk}
    )
    assert response.url == reverse("rep:home")

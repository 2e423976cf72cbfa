"""Honours: awarded by staff with the held meeting that decided; candidates by points earned."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from points import selectors, services
from points.models import Honour, LedgerEntry
from tests.factories import HouseholdFactory
from tests.points.factories import fund, held_meeting, make_shop_with_products, new_key

pytestmark = pytest.mark.django_db
YEAR = dt.date.today().year


def test_staff_award_without_a_meeting_is_refused(household, village_clerk):
    with pytest.raises(ValidationError, match="请选择作出决定的会议"):
        services.honour_award(
            actor=village_clerk, household=household, title="文明家庭", year=YEAR, meeting=None
        )
    assert not Honour.objects.exists()


def test_award_needs_a_held_meeting_of_the_households_village(
    household, village_clerk, other_village, township_staff
):
    from deliberation.models import Meeting
    from tests.deliberation.factories import open_meeting

    elsewhere = held_meeting(other_village, township_staff)
    announced = open_meeting(village_clerk, household.village, title="还没开的会")
    assert announced.status == Meeting.Status.ANNOUNCED
    for meeting, message in [
        (elsewhere, "所选会议不是本村的会议"),
        (announced, "所选会议尚未召开"),
    ]:
        with pytest.raises(ValidationError, match=message):
            services.honour_award(
                actor=village_clerk,
                household=household,
                title="文明家庭",
                year=YEAR,
                meeting=meeting,
            )
    assert not Honour.objects.exists()


def test_candidates_count_points_earned_in_the_year_not_the_balance(grid, village_clerk):
    """A household that spent its points at the shop is still proposed; the base grant and a
    reversed award do not make a household a candidate."""
    spender = HouseholdFactory(grid=grid)
    fund(spender, village_clerk, 250)
    shop, (rice,) = make_shop_with_products(grid.village, village_clerk, (("大米", 200, 2),))
    services.household_redeem(
        actor=village_clerk,
        household=spender,
        shop=shop,
        quantities={rice.pk: 1},
        request_key=new_key(),
    )
    based = HouseholdFactory(grid=grid)
    services.base_points_grant(year=YEAR, points=300, village_ids=[grid.village_id])
    reversed_ = HouseholdFactory(grid=grid)
    fund(reversed_, village_clerk, 260)
    services.entry_reverse(
        actor=village_clerk,
        entry=LedgerEntry.objects.get(account__household=reversed_, kind="award"),
        reason="记错户",
    )
    from grids.access import scope_of

    candidates = selectors.honour_candidates(
        scope=scope_of(village_clerk), village_id=grid.village_id, threshold=200, year=YEAR
    )

    assert [(c.household_id, c.earned) for c in candidates] == [(spender.pk, 250)]
    assert based.points_account.balance == 300  # rich in balance, but earned nothing


def test_candidates_leave_out_households_honoured_that_year(grid, village_clerk):
    from grids.access import scope_of

    household = HouseholdFactory(grid=grid)
    fund(household, village_clerk, 250)
    services.honour_award(
        actor=village_clerk,
        household=household,
        title="文明家庭",
        year=YEAR,
        meeting=held_meeting(grid.village, village_clerk),
    )
    scope = scope_of(village_clerk)
    assert not selectors.honour_candidates(
        scope=scope, village_id=grid.village_id, threshold=200, year=YEAR
    )
    assert [
        c.household_id
        for c in selectors.honour_candidates(
            scope=scope, village_id=grid.village_id, threshold=0, year=YEAR - 1
        )
    ] == []  # nothing earned last year


@pytest.mark.parametrize(
    "query",
    [
        {"year": "²²²²"},
        {"year": "٢٠٢٦"},
        {"year": "99999999999999999999999"},
        {"year": "1999"},
        {"threshold": "²"},
        {"threshold": "-5"},
        {"threshold": "9" * 30},
    ],
)
def test_bad_year_or_threshold_is_400_with_a_chinese_message(login, village_clerk, query):
    response = login(village_clerk).get(reverse("points:honour_list"), query)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="filter-errors"' in body
    assert ("年度" in body.split('id="filter-errors"')[1][:200]) or (
        "积分门槛" in body.split('id="filter-errors"')[1][:200]
    )
    assert response.context["year"] == YEAR and response.context["threshold"] == 200


def test_valid_year_and_threshold_are_used(login, village_clerk):
    response = login(village_clerk).get(
        reverse("points:honour_list"), {"year": "2025", "threshold": "80"}
    )
    assert response.status_code == 200
    assert (response.context["year"], response.context["threshold"]) == (2025, 80)


# --- black-listed households (红黑榜) -----------------------------------------------------------

LIST_DAY = dt.date(2026, 8, 10)  # in 2026Q3


def _black_listed(grid, clerk):
    """A household that earned 300 points in 2026 but is on the published 2026Q3 black list for
    an offence; returns (household, its black-list entry)."""
    from points.lists import village_lists_publish
    from tests.jobs.factories import award, households_with_heads

    (household,) = households_with_heads(grid, 1)
    award(clerk, [household], 300, dt.date(2026, 2, 3))
    award(clerk, [household], -20, LIST_DAY, offence=True, name="违规操办红白喜事")
    (publication,) = village_lists_publish(village=grid.village, quarter="2026Q3")
    return household, publication.entries.get(household=household, colour="black")


def test_black_listed_household_cannot_get_an_honour_that_year(grid, village_clerk):
    # given a household on the published black list of 2026Q3
    household, _entry = _black_listed(grid, village_clerk)
    meeting = held_meeting(grid.village, village_clerk)
    # when staff award it an honour of 2026, then it is refused, naming the quarter
    with pytest.raises(ValidationError, match="2026年第3季度.*黑榜"):
        services.honour_award(
            actor=village_clerk, household=household, title="文明家庭", year=2026, meeting=meeting
        )
    assert not Honour.objects.exists()
    # and an honour of another year is not affected
    services.honour_award(
        actor=village_clerk, household=household, title="文明家庭", year=2025, meeting=meeting
    )


def test_withdrawn_black_list_entry_no_longer_blocks_the_honour(grid, village_clerk):
    from points.lists import list_entry_withdraw

    household, entry = _black_listed(grid, village_clerk)
    list_entry_withdraw(actor=village_clerk, entry=entry, reason="异议成立")
    honour = services.honour_award(
        actor=village_clerk,
        household=household,
        title="文明家庭",
        year=2026,
        meeting=held_meeting(grid.village, village_clerk),
    )
    assert honour.year == 2026


def test_candidates_mark_black_listed_households_and_the_page_offers_no_award(
    grid, village_clerk, login
):
    from grids.access import scope_of

    household, _entry = _black_listed(grid, village_clerk)
    (candidate,) = selectors.honour_candidates(
        scope=scope_of(village_clerk), village_id=grid.village_id, threshold=200, year=2026
    )
    assert (candidate.household_id, candidate.earned) == (household.pk, 280)
    assert candidate.black_listed == ("2026Q3",)

    page = login(village_clerk).get(
        reverse("points:honour_list"), {"year": "2026", "threshold": "200"}
    )
    body = page.content.decode()
    assert "2026年第3季度上了黑榜" in body
    assert f"household={household.pk}" not in body  # no link that picks it for the award form


def test_the_award_form_shows_the_black_list_refusal(grid, village_clerk, login):
    household, _entry = _black_listed(grid, village_clerk)
    meeting = held_meeting(grid.village, village_clerk)
    response = login(village_clerk).post(
        reverse("points:honour_list") + f"?village={grid.village_id}&year=2026",
        {
            "village": grid.village_id,
            "household": household.pk,
            "title": "文明家庭",
            "year": 2026,
            "meeting": meeting.pk,
        },
    )
    assert response.status_code == 400
    assert "2026年第3季度上了黑榜" in response.content.decode()
    assert not Honour.objects.exists()

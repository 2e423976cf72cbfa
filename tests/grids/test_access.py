"""Given three users — a representative, a village clerk, a stranger — each sees exactly their part."""

import pytest

from grids.access import scope_of
from grids.models import Household, Role
from tests.factories import (
    GridFactory,
    HouseholdFactory,
    VillageFactory,
    representative_user,
    user_with_scope,
)

pytestmark = pytest.mark.django_db


def test_representative_sees_only_own_households(grid, other_grid, representative):
    neighbour = representative_user(other_grid, households=3)
    unlinked = HouseholdFactory(grid=grid)

    visible = set(scope_of(representative.user).households())

    assert visible == set(representative.households.all())
    assert not visible & set(neighbour.households.all())
    assert unlinked not in visible


def test_village_clerk_sees_own_village_only(village, other_village, grid, village_clerk):
    mine = HouseholdFactory(grid=grid)
    theirs = HouseholdFactory(grid=GridFactory(village=other_village))

    visible = set(scope_of(village_clerk).households())

    assert mine in visible
    assert theirs not in visible
    assert set(scope_of(village_clerk).villages()) == {village}


def test_township_staff_sees_own_township_not_another(township, village, township_staff):
    elsewhere = VillageFactory()
    HouseholdFactory(grid=GridFactory(village=village))
    foreign = HouseholdFactory(grid=GridFactory(village=elsewhere))

    scope = scope_of(township_staff)

    assert village in scope.villages()
    assert elsewhere not in scope.villages()
    assert foreign not in scope.households()


def test_user_without_scope_sees_nothing(stranger, household):
    scope = scope_of(stranger)

    assert not scope.households().exists()
    assert not scope.villages().exists()
    assert not scope.grids().exists()


def test_department_handler_sees_no_households_directly(township, household):
    handler = user_with_scope(Role.DEPARTMENT_HANDLER, township=township)

    assert not scope_of(handler).households().exists()


def test_only_own_village_staff_see_unmasked_pii(
    village, other_village, village_clerk, township_staff
):
    other_clerk = user_with_scope(Role.VILLAGE_STAFF, village=other_village)

    assert scope_of(village_clerk).can_see_pii(village.pk)
    assert not scope_of(other_clerk).can_see_pii(village.pk)
    assert not scope_of(township_staff).can_see_pii(village.pk)


@pytest.fixture
def grid_leader(grid):
    return user_with_scope(Role.GRID_LEADER, grid=grid, is_staff=True)


def test_grid_leader_sees_exactly_their_grid(
    village, other_village, grid, other_grid, representative, grid_leader
):
    # Given households in the leader's grid (linked or not), the next grid and another village
    unlinked = HouseholdFactory(grid=grid)
    mine = set(Household.objects.filter(grid=grid))
    assert unlinked in mine and set(representative.households.all()) < mine
    next_grid = HouseholdFactory(grid=other_grid)
    elsewhere = HouseholdFactory(grid=GridFactory(village=other_village))

    scope = scope_of(grid_leader)

    # Then they see every household of their grid and nothing else
    assert set(scope.households()) == mine
    assert next_grid not in scope.households() and elsewhere not in scope.households()
    assert set(scope.grids()) == {grid}
    assert set(scope.villages()) == {village}
    assert not scope.can_see_pii(village.pk)
    assert not scope.can_manage_village(village.pk)


def test_grid_leader_pages_show_only_their_grid(
    login, grid, other_grid, representative, grid_leader
):
    from django.urls import reverse

    neighbour_rep = representative_user(other_grid, households=2)
    neighbour = neighbour_rep.households.first()
    client = login(grid_leader)

    listing = client.get(reverse("grids:household_list")).content.decode()
    reps = client.get(reverse("grids:representative_list")).content.decode()

    assert representative.households.first().number in listing
    assert neighbour.number not in listing
    assert representative.card_number in reps and neighbour_rep.card_number not in reps
    assert client.get(reverse("grids:household_detail", args=[neighbour.pk])).status_code == 404
    assert (
        client.get(reverse("grids:representative_card", args=[neighbour_rep.pk])).status_code == 404
    )


def test_grid_leader_has_no_admin_even_as_staff(login, grid_leader, household):
    from django.urls import reverse

    client = login(grid_leader)

    assert client.get(reverse("admin:grids_household_changelist")).status_code == 403
    assert client.get(reverse("admin:grids_household_change", args=[household.pk])).status_code in (
        302,
        403,
    )

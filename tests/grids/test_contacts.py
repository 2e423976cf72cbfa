"""包村 / 包片 / 包网格: who may answer for what, where it is shown, and that it opens nothing."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from deliberation.models import Membership
from grids import services
from grids.access import scope_of
from grids.demo import demo_roles_ensure
from grids.models import ContactAssignment, Role
from tests.factories import (
    GridFactory,
    HouseholdFactory,
    ResidentFactory,
    SectionFactory,
    TownshipFactory,
    VillageFactory,
    representative_user,
    user_with_scope,
)

pytestmark = pytest.mark.django_db
DAY = dt.date(2024, 3, 1)


@pytest.fixture
def cadre(township):
    return user_with_scope(
        Role.TOWNSHIP_STAFF, township=township, is_staff=True, display_name="王包村"
    )


def test_township_cadre_takes_a_village(cadre, village, township_staff):
    assignment = services.contact_assign(
        actor=township_staff, cadre=cadre, village=village, started_on=DAY
    )

    assert assignment.kind == ContactAssignment.Kind.VILLAGE


@pytest.mark.parametrize(
    "who",
    ["village_clerk", "foreign_township_cadre", "representative"],
)
def test_only_a_township_cadre_of_that_township_takes_a_village(
    who, village, township_staff, village_clerk, representative
):
    candidates = {
        "village_clerk": village_clerk,
        "foreign_township_cadre": user_with_scope(
            Role.TOWNSHIP_STAFF, township=TownshipFactory(code="110101001")
        ),
        "representative": representative.user,
    }

    with pytest.raises(ValidationError, match="包村干部必须是本乡镇的乡镇干部"):
        services.contact_assign(
            actor=township_staff, cadre=candidates[who], village=village, started_on=DAY
        )


def test_village_clerk_cannot_arrange_a_village_contact(cadre, village, village_clerk):
    with pytest.raises(ValidationError, match="包村关系由乡镇安排"):
        services.contact_assign(actor=village_clerk, cadre=cadre, village=village, started_on=DAY)


def test_village_cadre_takes_a_grid_and_a_section(village, grid, village_clerk):
    colleague = user_with_scope(Role.VILLAGE_STAFF, village=village)
    section = SectionFactory(village=village)

    on_grid = services.contact_assign(
        actor=village_clerk, cadre=colleague, village=village, grid=grid, started_on=DAY
    )
    on_section = services.contact_assign(
        actor=village_clerk, cadre=colleague, village=village, section=section, started_on=DAY
    )

    assert (on_grid.kind, on_section.kind) == ("grid", "section")
    with pytest.raises(ValidationError, match="无需重复"):
        services.contact_assign(
            actor=village_clerk, cadre=colleague, village=village, grid=grid, started_on=DAY
        )


@pytest.mark.parametrize("who", ["township_staff", "grid_leader", "representative"])
def test_a_grid_contact_must_be_a_village_cadre_of_the_village(
    who, village, grid, village_clerk, township_staff, representative
):
    candidates = {
        "township_staff": township_staff,
        "grid_leader": user_with_scope(Role.GRID_LEADER, grid=grid),
        "representative": representative.user,
    }

    with pytest.raises(ValidationError, match="本村的村干部"):
        services.contact_assign(
            actor=village_clerk, cadre=candidates[who], village=village, grid=grid, started_on=DAY
        )


def test_ending_an_assignment_keeps_the_row(cadre, village, township_staff):
    assignment = services.contact_assign(
        actor=township_staff, cadre=cadre, village=village, started_on=DAY
    )

    services.contact_end(actor=township_staff, assignment=assignment, ended_on=DAY)

    assignment.refresh_from_db()
    assert assignment.ended_on == DAY
    with pytest.raises(ValidationError, match="已结束"):
        services.contact_end(actor=township_staff, assignment=assignment, ended_on=DAY)


def test_an_assignment_opens_nothing_outside_the_scope(village, other_village, grid):
    # Given a clerk of 注湖港村 recorded (even by hand) as 包网格 of a grid in village X
    clerk_y = user_with_scope(Role.VILLAGE_STAFF, village=other_village)
    household = HouseholdFactory(grid=grid)
    ContactAssignment.objects.create(
        cadre=clerk_y, kind="grid", village=village, grid=grid, started_on=DAY
    )

    # Then they still see nothing of village X
    scope = scope_of(clerk_y)
    assert household not in scope.households()
    assert village not in scope.villages()


def test_cadre_sees_my_contacts_on_the_staff_landing(login, cadre, village, township_staff):
    services.contact_assign(actor=township_staff, cadre=cadre, village=village, started_on=DAY)

    page = login(cadre).get(reverse("grids:household_list")).content.decode()

    assert "我包联的村/网格" in page
    assert f"?village={village.pk}" in page and village.name in page


def test_village_page_shows_who_answers_for_the_village_and_grid(
    login, cadre, village, grid, village_clerk, township_staff
):
    services.contact_assign(actor=township_staff, cadre=cadre, village=village, started_on=DAY)
    colleague = user_with_scope(Role.VILLAGE_STAFF, village=village, display_name="李包格")
    services.contact_assign(
        actor=village_clerk, cadre=colleague, village=village, grid=grid, started_on=DAY
    )
    client = login(village_clerk)

    village_page = client.get(reverse("grids:household_list")).content.decode()
    grid_page = client.get(
        reverse("grids:household_list"), {"village": village.pk, "grid": grid.pk}
    ).content.decode()
    reps_page = client.get(reverse("grids:representative_list")).content.decode()

    assert "包村：王包村" in village_page and "李包格" in village_page
    assert "包村：王包村" in grid_page and "包网格·" + grid.name + "：李包格" in grid_page
    assert "包村：王包村" in reps_page


def test_grid_leader_sees_only_their_grids_contacts(
    login, village, grid, other_grid, village_clerk
):
    leader = user_with_scope(Role.GRID_LEADER, grid=grid)
    colleague = user_with_scope(Role.VILLAGE_STAFF, village=village, display_name="赵二格")
    services.contact_assign(
        actor=village_clerk, cadre=colleague, village=village, grid=other_grid, started_on=DAY
    )

    page = login(leader).get(reverse("grids:household_list")).content.decode()

    assert "赵二格" not in page


def test_contact_admin_changes_only_the_end_date(login, village, grid, village_clerk):
    colleague = user_with_scope(Role.VILLAGE_STAFF, village=village)
    assignment = services.contact_assign(
        actor=village_clerk, cadre=colleague, village=village, grid=grid, started_on=DAY
    )

    response = login(village_clerk).post(
        reverse("admin:grids_contactassignment_change", args=[assignment.pk]),
        {"ended_on": "2024-06-30", "cadre": village_clerk.pk},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assignment.refresh_from_db()
    assert assignment.ended_on == dt.date(2024, 6, 30)
    assert assignment.cadre == colleague


def test_demo_roles_give_each_village_a_secretary_and_contacts(township):
    # Given a small demo-like township: staff accounts, two villages with grids and households
    cadre = user_with_scope(Role.TOWNSHIP_STAFF, township=township)
    villages = [VillageFactory(township=township) for _ in range(2)]
    clerks = [user_with_scope(Role.VILLAGE_STAFF, village=v) for v in villages]
    for v in villages:
        grid = GridFactory(village=v)
        head = ResidentFactory(household__grid=grid)
        head.household.head = head
        head.household.save()
        representative_user(grid)

    # When the demo roles are ensured twice
    demo_roles_ensure(actor=None, township=township)
    demo_roles_ensure(actor=None, township=township)

    # Then each village has a secretary chairing its councils, one 包村 cadre and a 包网格 clerk
    for v, clerk in zip(villages, clerks, strict=True):
        v.refresh_from_db()
        assert v.party_secretary is not None
        assert Membership.objects.filter(
            body__village=v, resident=v.party_secretary, role="chair"
        ).exists()
        kinds = sorted(ContactAssignment.objects.filter(village=v).values_list("kind", "cadre_id"))
        assert kinds == [("grid", clerk.pk), ("village", cadre.pk)]

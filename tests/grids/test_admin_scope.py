"""The admin offers a clerk only their own part of the tree: list filters, dropdowns, search."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from grids import services
from grids.models import AuditEntry, Representative, Role, Scope
from tests.factories import (
    GridFactory,
    HouseholdFactory,
    ResidentFactory,
    SectionFactory,
    TownshipFactory,
    UserFactory,
    VillageFactory,
    representative_user,
    user_with_scope,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_villages(township, village, other_village, grid):
    """Village X (the clerk's, with a grid and a section) and 注湖港村 with its own rows."""
    SectionFactory(village=village, name="东湖片")
    theirs_grid = GridFactory(village=other_village, name="港口网格")
    SectionFactory(village=other_village, name="港口片")
    HouseholdFactory(grid=grid)
    theirs = ResidentFactory(household__grid=theirs_grid)
    representative_user(theirs_grid)
    foreign_township = TownshipFactory(name="外乡镇")
    VillageFactory(township=foreign_township, name="明月村")
    return theirs


@pytest.mark.parametrize(
    "changelist",
    [
        "admin:grids_household_changelist",
        "admin:grids_resident_changelist",
        "admin:grids_representative_changelist",
        "admin:grids_grid_changelist",
        "admin:grids_section_changelist",
        "admin:grids_village_changelist",
        "admin:grids_contactassignment_changelist",
    ],
)
def test_village_clerk_list_filters_name_no_other_village(
    login, village_clerk, two_villages, changelist
):
    page = login(village_clerk).get(reverse(changelist)).content.decode()

    assert "注湖港村" not in page
    assert "明月村" not in page
    assert "港口网格" not in page
    assert "外乡镇" not in page


def test_township_staff_filter_offers_own_villages_not_another_townships(
    login, township_staff, two_villages
):
    page = login(township_staff).get(reverse("admin:grids_household_changelist")).content.decode()

    assert "注湖港村" in page  # same township: a real choice
    assert "明月村" not in page


def test_search_by_id_tail_keeps_the_active_list_filter(login, township_staff, village, grid):
    # Given two households, one per village, whose residents' ID numbers end alike
    mine = ResidentFactory(household__grid=grid, id_number="43090319700101005X")
    theirs_village = VillageFactory(township=village.township, name="对面村")
    theirs = ResidentFactory(
        household__grid=GridFactory(village=theirs_village), id_number="430903198001010050"
    )
    theirs.id_number = "43090319800101005X"
    theirs.save()
    client = login(township_staff)

    # When township staff filter by village X and search by the last four characters
    households = client.get(
        reverse("admin:grids_household_changelist"),
        {"village__id__exact": village.pk, "q": "005x"},
    )
    residents = client.get(
        reverse("admin:grids_resident_changelist"),
        {"household__village__id__exact": village.pk, "q": "005x"},
    )

    # Then only village X's rows are listed
    assert list(households.context["cl"].result_list) == [mine.household]
    assert list(residents.context["cl"].result_list) == [mine]


def test_contact_cadre_dropdown_offers_only_own_village_cadres(
    login, village, other_village, village_clerk, township_staff
):
    colleague = user_with_scope(Role.VILLAGE_STAFF, village=village, username="colleague1")
    user_with_scope(Role.VILLAGE_STAFF, village=other_village, username="elsewhere1")
    UserFactory(username="nobody1")

    form = (
        login(village_clerk)
        .get(reverse("admin:grids_contactassignment_add"))
        .context["adminform"]
        .form
    )

    offered = set(form.fields["cadre"].queryset)
    assert colleague in offered and village_clerk in offered
    assert all(u.username not in {"elsewhere1", "nobody1"} for u in offered)
    assert township_staff not in offered


def test_grid_leader_dropdown_offers_only_the_grids_leaders_and_village_cadres(
    login, village, other_village, grid, other_grid, village_clerk
):
    own_leader = user_with_scope(Role.GRID_LEADER, grid=grid)
    other_grids_leader = user_with_scope(Role.GRID_LEADER, grid=other_grid)
    foreign_leader = user_with_scope(Role.GRID_LEADER, grid=GridFactory(village=other_village))
    rep = representative_user(grid)

    form = (
        login(village_clerk)
        .get(reverse("admin:grids_grid_change", args=[grid.pk]))
        .context["adminform"]
        .form
    )

    offered = set(form.fields["leader"].queryset)
    assert own_leader in offered and village_clerk in offered
    assert foreign_leader not in offered and rep.user not in offered
    # The dropdown is the village's grid leaders; the service refuses the wrong grid's.
    assert other_grids_leader in offered
    with pytest.raises(ValidationError, match="网格长必须是本网格"):
        services.grid_update(actor=village_clerk, grid=grid, leader=other_grids_leader)


def test_admin_post_of_out_of_scope_leader_is_refused(
    login, village, other_village, grid, village_clerk
):
    foreign_clerk = user_with_scope(Role.VILLAGE_STAFF, village=other_village)

    response = login(village_clerk).post(
        reverse("admin:grids_grid_change", args=[grid.pk]),
        {
            "village": village.pk,
            "code": grid.code,
            "name": grid.name,
            "section": "",
            "leader": foreign_clerk.pk,
        },
    )

    assert response.status_code == 200  # the form comes back with an error
    grid.refresh_from_db()
    assert grid.leader_id is None


def test_section_leader_must_be_a_cadre_of_the_village(village, other_village, village_clerk):
    section = SectionFactory(village=village)
    foreign_clerk = user_with_scope(Role.VILLAGE_STAFF, village=other_village)

    with pytest.raises(ValidationError, match="分片网格长"):
        services.section_update(actor=village_clerk, section=section, leader=foreign_clerk)
    services.section_update(actor=village_clerk, section=section, leader=village_clerk)

    section.refresh_from_db()
    assert section.leader == village_clerk


def test_clerk_cannot_change_another_villages_grid_through_the_service(
    other_village, village_clerk
):
    theirs = GridFactory(village=other_village)

    with pytest.raises(ValidationError, match="只能管理本村"):
        services.grid_update(actor=village_clerk, grid=theirs, name="改名")


def test_appointing_a_resident_whose_phone_is_a_staff_login_is_refused(village, grid):
    # Given a village clerk whose account has phone 13812340000
    clerk = user_with_scope(Role.VILLAGE_STAFF, village=village, phone="13812340000")
    resident = ResidentFactory(household__grid=grid, phone="13812340000", name="刘志强")

    # When the resident is appointed representative, then it is refused, naming the reason
    with pytest.raises(ValidationError, match="工作人员"):
        services.representative_appoint(
            actor=None,
            resident=resident,
            grid=grid,
            card_number="X-001",
            appointed_on=dt.date(2024, 1, 1),
        )

    # And the staff account is untouched
    assert Scope.objects.get(user=clerk).role == Role.VILLAGE_STAFF
    assert not Representative.objects.filter(resident=resident).exists()


def test_appointing_over_an_admin_account_with_that_phone_as_username_is_refused(grid):
    UserFactory(username="13812340001", is_staff=True)
    resident = ResidentFactory(household__grid=grid, phone="13812340001")

    with pytest.raises(ValidationError, match="工作人员"):
        services.representative_appoint(
            actor=None,
            resident=resident,
            grid=grid,
            card_number="X-002",
            appointed_on=dt.date(2024, 1, 1),
        )


def test_former_representatives_login_is_reused_for_a_new_term(grid):
    resident = ResidentFactory(household__grid=grid, phone="13812340002")
    first = services.representative_appoint(
        actor=None,
        resident=resident,
        grid=grid,
        card_number="X-3",
        appointed_on=dt.date(2023, 1, 1),
    )
    services.representative_end(actor=None, representative=first, ended_on=dt.date(2023, 6, 1))

    second = services.representative_appoint(
        actor=None,
        resident=resident,
        grid=grid,
        card_number="X-4",
        appointed_on=dt.date(2024, 1, 1),
    )

    assert second.user == first.user
    assert Scope.objects.get(user=second.user).role == Role.REPRESENTATIVE


def test_admin_appointment_over_staff_phone_says_why(login, village, grid, village_clerk):
    user_with_scope(Role.VILLAGE_STAFF, village=village, phone="13812340003")
    resident = ResidentFactory(household__grid=grid, phone="13812340003")

    response = login(village_clerk).post(
        reverse("admin:grids_representative_add"),
        {
            "resident": resident.pk,
            "grid": grid.pk,
            "kind": "linked",
            "card_number": "X-005",
            "appointed_on": "2024-01-01",
        },
        follow=True,
    )

    assert "工作人员" in response.content.decode()
    assert not Representative.objects.filter(resident=resident).exists()


def _user_change_post(user, **extra):
    data = {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "is_staff": "on",
        "date_joined_0": "2024-01-01",
        "date_joined_1": "08:00:00",
        "phone": user.phone,
        "display_name": user.display_name,
        "scope-TOTAL_FORMS": "1",
        "scope-INITIAL_FORMS": "0",
        "scope-MIN_NUM_FORMS": "0",
        "scope-MAX_NUM_FORMS": "1",
        "scope-0-id": "",
        "scope-0-user": user.pk,
    }
    data.update(extra)
    return data


def test_scope_given_in_the_user_admin_is_audited(login, village):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    clerk = UserFactory(is_staff=True)

    response = login(admin_user).post(
        reverse("admin:grids_user_change", args=[clerk.pk]),
        _user_change_post(
            clerk, **{"scope-0-role": Role.VILLAGE_STAFF, "scope-0-village": village.pk}
        ),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    assert Scope.objects.get(user=clerk).village == village
    entry = AuditEntry.objects.get(action="scope", object_type="grids.scope")
    assert entry.actor == admin_user
    assert entry.after["role"] == Role.VILLAGE_STAFF
    assert entry.village_id == village.pk


def test_scope_with_missing_place_is_refused_in_chinese(login):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    clerk = UserFactory(is_staff=True)

    response = login(admin_user).post(
        reverse("admin:grids_user_change", args=[clerk.pk]),
        _user_change_post(clerk, **{"scope-0-role": Role.VILLAGE_STAFF}),
    )

    assert response.status_code == 200
    assert "村干部必须指定村" in response.content.decode()
    assert not Scope.objects.filter(user=clerk).exists()


def test_admin_password_change_is_audited_and_must_be_changed_at_sign_in(login):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    clerk = UserFactory()

    response = login(admin_user).post(
        reverse("admin:auth_user_password_change", args=[clerk.pk]),
        {"password1": "Qingshan-2024", "password2": "Qingshan-2024", "usable_password": "true"},
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    clerk.refresh_from_db()
    assert clerk.check_password("Qingshan-2024")
    assert clerk.password_must_change is True
    entry = AuditEntry.objects.get(action="password_set", object_id=str(clerk.pk))
    assert entry.actor == admin_user
    assert "Qingshan" not in str(entry.before) + str(entry.after)


def test_contact_assign_refuses_a_cadre_of_another_village(village, other_village, township_staff):
    cadre = user_with_scope(Role.VILLAGE_STAFF, village=other_village)

    with pytest.raises(ValidationError, match="本村的村干部"):
        services.contact_assign(
            actor=township_staff,
            cadre=cadre,
            village=village,
            started_on=dt.date(2024, 1, 1),
            grid=GridFactory(village=village),
        )

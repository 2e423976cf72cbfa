"""Staff pages and the admin: scoped, PII masked outside the village's own staff, every edit audited."""

import pytest
from django.urls import reverse

from grids.models import AuditEntry, Household, Role
from tests.factories import (
    GridFactory,
    HouseholdFactory,
    ResidentFactory,
    UserFactory,
    representative_user,
    user_with_scope,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def resident(grid):
    return ResidentFactory(
        household__grid=grid, name="周德福", id_number="43090319700101005X", phone="13812345678"
    )


def test_village_clerk_sees_full_id_number_of_own_village(login, village_clerk, resident):
    page = (
        login(village_clerk)
        .get(reverse("grids:household_detail", args=[resident.household_id]))
        .content.decode()
    )

    assert "43090319700101005X" in page
    assert "13812345678" in page


def test_township_staff_see_masked_id_number_and_phone(login, township_staff, resident):
    page = (
        login(township_staff)
        .get(reverse("grids:household_detail", args=[resident.household_id]))
        .content.decode()
    )

    assert "4309**********005X" in page
    assert "138****5678" in page
    assert "43090319700101005X" not in page
    assert "13812345678" not in page


def test_other_village_clerk_gets_404_for_household(login, other_village, resident):
    clerk = user_with_scope(Role.VILLAGE_STAFF, village=other_village)

    assert (
        login(clerk)
        .get(reverse("grids:household_detail", args=[resident.household_id]))
        .status_code
        == 404
    )


def test_representative_sees_own_household_but_not_neighbours(login, grid, representative):
    own = representative.households.first()
    neighbour = HouseholdFactory(grid=grid)
    client = login(representative.user)

    assert client.get(reverse("grids:household_detail", args=[own.pk])).status_code == 200
    assert client.get(reverse("grids:household_detail", args=[neighbour.pk])).status_code == 404


def test_representative_cannot_open_staff_lists(login, representative):
    client = login(representative.user)

    assert client.get(reverse("grids:household_list")).status_code == 403
    assert client.get(reverse("grids:representative_list")).status_code == 403


def test_stranger_sees_nothing(login, stranger, household):
    client = login(stranger)

    assert client.get(reverse("grids:household_list")).status_code == 403
    assert client.get(reverse("grids:household_detail", args=[household.pk])).status_code == 404


def test_anonymous_is_sent_to_login(client, household):
    response = client.get(reverse("grids:household_detail", args=[household.pk]))

    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_household_search_by_last_four_id_digits(login, village_clerk, resident):
    page = login(village_clerk).get(reverse("grids:household_list"), {"q": "005x"}).content.decode()

    assert resident.household.number in page


def test_household_search_with_a_nul_byte_is_no_error(login, village_clerk, resident):
    # PostgreSQL can neither store nor compare NUL: the search ignores it
    response = login(village_clerk).get(reverse("grids:household_list"), {"q": "周德\x00"})
    assert response.status_code == 200
    assert resident.household.number in response.content.decode()


def test_representative_list_flags_too_few_and_too_many_households(login, village_clerk, grid):
    representative_user(grid, households=3)
    representative_user(grid, households=16)
    representative_user(grid, households=10)

    page = login(village_clerk).get(reverse("grids:representative_list")).content.decode()

    assert page.count("偏少") == 1
    assert page.count("偏多") == 1


def test_household_list_query_count_does_not_grow(
    login, village_clerk, grid, django_assert_max_num_queries
):
    client = login(village_clerk)
    HouseholdFactory.create_batch(5, grid=grid)
    # Two of the nine: the clerk's own 包联 and who answers for the village.
    with django_assert_max_num_queries(9):
        client.get(reverse("grids:household_list"))
    HouseholdFactory.create_batch(60, grid=grid)
    with django_assert_max_num_queries(9):
        client.get(reverse("grids:household_list"))


def test_admin_edit_goes_through_service_and_is_audited(login, village_clerk, grid):
    household = HouseholdFactory(grid=grid, tags=[])
    client = login(village_clerk)
    url = reverse("admin:grids_household_change", args=[household.pk])

    response = client.post(
        url,
        {
            "grid": grid.pk,
            "number": household.number,
            "address": "新地址1号",
            "tags": '["独居老人"]',
            "head": "",
            "representative": "",
            "residents-TOTAL_FORMS": "0",
            "residents-INITIAL_FORMS": "0",
            "residents-MIN_NUM_FORMS": "0",
            "residents-MAX_NUM_FORMS": "1000",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    household.refresh_from_db()
    assert household.address == "新地址1号"
    assert household.priority is True  # derived by household_update, so the service ran
    entry = AuditEntry.objects.get(
        object_type="grids.household", object_id=str(household.pk), action="update"
    )
    assert entry.actor == village_clerk
    assert entry.after["address"] == "新地址1号"
    assert entry.before["address"] != "新地址1号"


def test_admin_lists_only_own_village(login, village_clerk, other_village, grid):
    mine = HouseholdFactory(grid=grid, number="MINE01")
    HouseholdFactory(grid=GridFactory(village=other_village), number="THEIRS1")

    page = login(village_clerk).get(reverse("admin:grids_household_changelist")).content.decode()

    assert mine.number in page
    assert "THEIRS1" not in page


def test_admin_refuses_other_village_object(login, village_clerk, other_village):
    theirs = HouseholdFactory(grid=GridFactory(village=other_village))

    response = login(village_clerk).get(reverse("admin:grids_household_change", args=[theirs.pk]))

    assert response.status_code in (302, 404)
    assert Household.objects.filter(pk=theirs.pk).exists()


def test_admin_masks_pii_for_township_staff(login, township_staff, resident):
    page = (
        login(township_staff)
        .get(reverse("admin:grids_resident_change", args=[resident.pk]))
        .content.decode()
    )

    assert "43090319700101005X" not in page
    assert "4309**********005X" in page


def test_admin_resident_edit_audit_keeps_id_number_masked(login, village_clerk, resident):
    client = login(village_clerk)
    url = reverse("admin:grids_resident_change", args=[resident.pk])

    client.post(
        url,
        {
            "household": resident.household_id,
            "name": "周德福",
            "relation": "户主",
            "gender": "M",
            "birth_date": "1970-01-01",
            "status": "present",
            "id_number": resident.id_number,
            "phone": "13987654321",
        },
    )

    entry = AuditEntry.objects.get(object_type="grids.resident", action="update")
    assert entry.after == {"phone": "139****4321"}
    assert "13987654321" not in str(entry.before) + str(entry.after)


def test_admin_rejects_bad_id_number_with_chinese_message(login, village_clerk, resident):
    client = login(village_clerk)
    url = reverse("admin:grids_resident_change", args=[resident.pk])

    response = client.post(
        url,
        {
            "household": resident.household_id,
            "name": "周德福",
            "relation": "户主",
            "gender": "M",
            "birth_date": "1970-01-01",
            "status": "present",
            "id_number": "430903197001010011",
            "phone": "",
        },
        follow=True,
    )

    resident.refresh_from_db()
    assert resident.id_number == "43090319700101005X"
    assert "校验位错误" in response.content.decode()


def test_admin_has_no_delete(login, village_clerk, household):
    response = login(village_clerk).post(
        reverse("admin:grids_household_delete", args=[household.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert Household.objects.filter(pk=household.pk).exists()


def test_non_staff_user_cannot_open_admin(login, representative):
    response = login(representative.user).get(reverse("admin:index"))

    assert response.status_code == 302


def test_superuser_only_manages_accounts(login, village_clerk):
    assert login(village_clerk).get(reverse("admin:grids_user_changelist")).status_code == 403
    admin = UserFactory(is_staff=True, is_superuser=True)
    assert login(admin).get(reverse("admin:grids_user_changelist")).status_code == 200

"""The village Party secretary (总网格长) is recorded and chairs the 一约四会 that have no chair."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from deliberation.models import VILLAGE_STANDARD_KINDS, Body, BodyKind, Membership
from grids import services
from grids.models import AuditEntry, Resident
from tests.factories import GridFactory, ResidentFactory

pytestmark = pytest.mark.django_db

LEGAL = {BodyKind.VILLAGERS_ASSEMBLY, BodyKind.REPRESENTATIVES_ASSEMBLY}


def _chairs(village) -> dict[str, str]:
    return dict(
        Membership.objects.filter(
            body__village=village, role=Membership.Role.CHAIR, left_on__isnull=True
        ).values_list("body__kind", "resident__name")
    )


@pytest.fixture
def new_village(township, township_staff):
    """A village created today by the township, with one grid and one household."""
    village = services.village_create(
        actor=township_staff, township=township, code="430903106209", name="新建村"
    )
    grid = services.grid_create(
        actor=township_staff, village=village, code="430903106209001", name="第一网格"
    )
    household = services.household_create(actor=township_staff, grid=grid, number="0001")
    services.resident_create(
        actor=township_staff, household=household, name="何书记", relation="户主"
    )
    return village


def test_new_village_bodies_get_the_secretary_as_chair(new_village, township_staff):
    # Given a new village: its bodies exist and have no chair
    assert Body.objects.filter(village=new_village).count() == len(VILLAGE_STANDARD_KINDS)
    assert _chairs(new_village) == {}
    secretary = Resident.objects.get(name="何书记")

    # When the township records its Party secretary
    services.village_party_secretary_set(
        actor=township_staff, village=new_village, resident=secretary
    )

    # Then every 一约四会 body has them as 会长; the Organic Law's assemblies have no chair
    new_village.refresh_from_db()
    assert new_village.party_secretary == secretary
    expected = {kind for kind in VILLAGE_STANDARD_KINDS if kind not in LEGAL}
    assert _chairs(new_village) == dict.fromkeys(expected, "何书记")
    assert AuditEntry.objects.filter(
        object_type="grids.village", object_id=str(new_village.pk), action="update"
    ).exists()


def test_secretary_set_later_fills_only_bodies_without_a_chair(new_village, township_staff):
    # Given a 红白理事会 that already has a chair
    grid = new_village.grids.get()
    elder = ResidentFactory(household__grid=grid, name="陈长者")
    ceremony = Body.objects.get(village=new_village, kind=BodyKind.CEREMONY_COUNCIL)
    Membership.objects.create(
        body=ceremony, resident=elder, role=Membership.Role.CHAIR, joined_on="2024-01-01"
    )
    secretary = Resident.objects.get(name="何书记")

    # When the secretary is recorded later
    services.village_party_secretary_set(
        actor=township_staff, village=new_village, resident=secretary
    )

    # Then that chair stays, and the others are filled
    chairs = _chairs(new_village)
    assert chairs[BodyKind.CEREMONY_COUNCIL] == "陈长者"
    assert chairs[BodyKind.MORAL_COUNCIL] == "何书记"


def test_secretary_must_live_in_the_village(village, new_village, township_staff):
    outsider = ResidentFactory(household__grid=GridFactory(village=village))

    with pytest.raises(ValidationError, match="本村村民"):
        services.village_party_secretary_set(
            actor=township_staff, village=new_village, resident=outsider
        )
    new_village.refresh_from_db()
    assert new_village.party_secretary is None


def test_village_clerk_of_another_village_cannot_set_it(new_village, village_clerk):
    with pytest.raises(ValidationError, match="只能管理本村"):
        services.village_party_secretary_set(
            actor=village_clerk,
            village=new_village,
            resident=Resident.objects.get(name="何书记"),
        )


def test_township_staff_set_the_secretary_in_the_admin(login, new_village, township_staff, village):
    ResidentFactory(household__grid=GridFactory(village=village), name="外村人")
    secretary = Resident.objects.get(name="何书记")
    client = login(township_staff)
    url = reverse("admin:grids_village_change", args=[new_village.pk])

    offered = set(client.get(url).context["adminform"].form.fields["party_secretary"].queryset)
    assert offered == {secretary}

    response = client.post(
        url,
        {
            "township": new_village.township_id,
            "code": new_village.code,
            "name": new_village.name,
            "kind": new_village.kind,
            "min_households_per_rep": 5,
            "max_households_per_rep": 15,
            "visit_cadence_days": 7,
            "party_secretary": secretary.pk,
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    new_village.refresh_from_db()
    assert new_village.party_secretary == secretary
    assert _chairs(new_village)[BodyKind.AFFAIRS_COUNCIL] == "何书记"


def test_an_ordinary_member_recorded_as_secretary_takes_the_chair(new_village, township_staff):
    # Given the future secretary already sits on the 道德评议会 as an ordinary member
    from deliberation import services as deliberation_services

    secretary = Resident.objects.get(name="何书记")
    moral = Body.objects.get(village=new_village, kind=BodyKind.MORAL_COUNCIL)
    ordinary = deliberation_services.membership_add(
        actor=township_staff, body=moral, resident=secretary
    )

    # When the township records them as Party secretary
    services.village_party_secretary_set(
        actor=township_staff, village=new_village, resident=secretary
    )

    # Then the ordinary term has ended (in the change log) and they chair that body too
    ordinary.refresh_from_db()
    assert ordinary.left_on is not None
    assert AuditEntry.objects.filter(
        action="membership_end", object_type="deliberation.membership", object_id=str(ordinary.pk)
    ).exists()
    active = Membership.objects.filter(body=moral, resident=secretary, left_on__isnull=True)
    assert list(active.values_list("role", flat=True)) == [Membership.Role.CHAIR]
    assert _chairs(new_village)[BodyKind.MORAL_COUNCIL] == "何书记"

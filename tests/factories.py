"""factory_boy factories for the territory. Codes nest: grid code = village code + 3 digits."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model

from grids.models import (
    Grid,
    Household,
    Representative,
    Resident,
    Role,
    Scope,
    Section,
    Township,
    Village,
)
from grids.validators import id_check_char


def make_id_number(seq: int, birth: dt.date = dt.date(1970, 1, 1), region: str = "430903") -> str:
    body = f"{region}{birth:%Y%m%d}{seq % 1000:03d}"
    return body + id_check_char(body)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.PostGenerationMethodCall("set_password", "pass-1234-word")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class TownshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Township

    code = factory.Sequence(lambda n: f"{430903100 + n:09d}")
    name = factory.Sequence(lambda n: f"测试镇{n}")


class VillageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Village

    township = factory.SubFactory(TownshipFactory)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.township.code}{200 + n % 800:03d}")
    name = factory.Sequence(lambda n: f"测试村{n}")


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section

    village = factory.SubFactory(VillageFactory)
    name = factory.Sequence(lambda n: f"第{n}片")


class GridFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Grid

    village = factory.SubFactory(VillageFactory)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.village.code}{n % 1000:03d}")
    name = factory.Sequence(lambda n: f"第{n}网格")


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    grid = factory.SubFactory(GridFactory)
    village = factory.SelfAttribute("grid.village")
    number = factory.Sequence(lambda n: f"H{n:05d}")
    address = factory.Sequence(lambda n: f"{n}号")


class ResidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resident

    household = factory.SubFactory(HouseholdFactory)
    name = factory.Sequence(lambda n: f"村民{n}")
    gender = "M"
    birth_date = dt.date(1970, 1, 1)
    id_number = factory.Sequence(lambda n: make_id_number(n))
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    relation = "户主"


class RepresentativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Representative

    grid = factory.SubFactory(GridFactory)
    resident = factory.SubFactory(ResidentFactory, household__grid=factory.SelfAttribute("...grid"))
    card_number = factory.Sequence(lambda n: f"DB{n:06d}")
    appointed_on = dt.date(2024, 1, 1)
    user = factory.SubFactory(UserFactory)


def user_with_scope(role: str, *, township=None, village=None, grid=None, **user_kwargs):
    user = UserFactory(**user_kwargs)
    if role in (Role.GRID_LEADER, Role.REPRESENTATIVE):
        village = grid.village
    Scope.objects.create(user=user, role=role, township=township, village=village, grid=grid)
    return user


def representative_user(grid, households: int = 0, **kwargs):
    """A representative of ``grid`` with a login and ``households`` linked households."""
    rep = RepresentativeFactory(grid=grid, **kwargs)
    Scope.objects.create(user=rep.user, role=Role.REPRESENTATIVE, village=grid.village, grid=grid)
    for _ in range(households):
        HouseholdFactory(grid=grid, representative=rep)
    return rep

"""Factories and helpers for the request closed loop. Requests are made through the services."""

from __future__ import annotations

import factory

from governance import services
from governance.models import Department, DepartmentMember, RequestCategory
from grids.models import Role, Scope
from tests.factories import UserFactory


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"部门{n}")


class RequestCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RequestCategory

    name = factory.Sequence(lambda n: f"类别{n}")


def department_handler(department: Department, **user_kwargs):
    """A login that handles ``department``'s requests (scope: 部门经办人 of its township)."""
    user = UserFactory(**user_kwargs)
    Scope.objects.create(user=user, role=Role.DEPARTMENT_HANDLER, township=department.township)
    DepartmentMember.objects.create(user=user, department=department)
    return user


def report(rep, household=None, **kwargs):
    """A request reported by representative ``rep`` for one of their households."""
    household = household or rep.households.order_by("pk").first()
    kwargs.setdefault("title", "路灯不亮")
    return services.request_report(actor=rep.user, household=household, **kwargs)


def triaged(rep, staff, *, level="grid", department=None, **kwargs):
    request = report(rep, **kwargs)
    return services.request_triage(actor=staff, request=request, level=level, department=department)


def in_progress(rep, staff, *, level="grid", department=None, handler=None, **kwargs):
    request = triaged(rep, staff, level=level, department=department, **kwargs)
    if level == "township":
        services.request_acknowledge(actor=handler, request=request)
        return services.request_start(actor=handler, request=request)
    return services.request_start(actor=handler or rep.user, request=request)


def resolved(rep, staff, **kwargs):
    request = in_progress(rep, staff, **kwargs)
    actor = kwargs.get("handler") or rep.user
    return services.request_resolve(actor=actor, request=request, note="已修好")

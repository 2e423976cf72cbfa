"""The township's departments, categories and 三个清单 in the admin, through the services."""

from django.urls import reverse

from governance.models import CatalogueChange, CatalogueItem, Department, DepartmentMember
from grids.models import Role, Scope
from tests.factories import UserFactory


def test_township_staff_add_catalogue_item_with_history(township_staff, township, login):
    client = login(township_staff)
    response = client.post(
        reverse("admin:governance_catalogueitem_add"),
        {
            "township": township.pk,
            "list_kind": "burden_relief",
            "code": "J-05",
            "title": "要求村级开具证明",
            "legal_basis": "",
            "added_on": "2026-11-01",
            "changes-TOTAL_FORMS": "0",
            "changes-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    item = CatalogueItem.objects.get(code="J-05")
    assert CatalogueChange.objects.get(item=item).action == "add"


def test_department_member_added_in_admin_gets_handler_scope(
    township_staff, township, department, login
):
    user = UserFactory(username="minzheng")
    response = login(township_staff).post(
        reverse("admin:governance_departmentmember_add"),
        {"department": department.pk, "user": user.pk},
    )
    assert response.status_code == 302
    assert DepartmentMember.objects.filter(user=user, department=department).exists()
    scope = Scope.objects.get(user=user)
    assert scope.role == Role.DEPARTMENT_HANDLER and scope.township == township


def test_village_clerk_cannot_manage_departments(village_clerk, department, login):
    client = login(village_clerk)
    assert client.get(reverse("admin:governance_department_changelist")).status_code == 403


def test_other_townships_departments_are_not_listed(township_staff, department, login):
    from tests.factories import TownshipFactory
    from tests.governance.factories import DepartmentFactory

    DepartmentFactory(township=TownshipFactory(), name="外镇部门")
    response = login(township_staff).get(reverse("admin:governance_department_changelist"))
    assert [d.name for d in response.context["cl"].result_list] == [department.name]
    assert Department.objects.count() == 2

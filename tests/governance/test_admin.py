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


def _catalogue_item(township, staff):
    from governance import services

    return services.catalogue_item_add(
        actor=staff, township=township, list_kind="self_governance", code="Z-06", title="村道管护"
    )


def _change_post(item, **data):
    return {
        "list_kind": item.list_kind,
        "title": item.title,
        "legal_basis": item.legal_basis,
        "reason": "",
        "changes-TOTAL_FORMS": "1",
        "changes-INITIAL_FORMS": "1",
        "changes-0-id": str(item.changes.get().pk),
        "changes-0-item": str(item.pk),
        **data,
    }


def test_admin_change_of_catalogue_item_records_the_users_reason(township_staff, township, login):
    item = _catalogue_item(township, township_staff)
    client = login(township_staff)
    url = reverse("admin:governance_catalogueitem_change", args=[item.pk])
    response = client.post(url, _change_post(item, title="村内道路日常管护"))
    assert response.status_code == 200 and "请填写调整理由" in response.content.decode()
    item.refresh_from_db()
    assert item.title == "村道管护"

    response = client.post(
        url, _change_post(item, title="村内道路日常管护", reason="与市清单表述一致")
    )
    assert response.status_code == 302
    change = CatalogueChange.objects.get(item=item, action="change")
    assert change.reason == "与市清单表述一致" and change.after["title"] == "村内道路日常管护"


def test_admin_exit_action_asks_for_reason_and_date(township_staff, township, login):
    item = _catalogue_item(township, township_staff)
    client = login(township_staff)
    url = reverse("admin:governance_catalogueitem_changelist")
    chosen = {"action": "exit_items", "_selected_action": [str(item.pk)]}
    response = client.post(url, chosen)
    assert response.status_code == 200 and "退出理由" in response.content.decode()
    item.refresh_from_db()
    assert item.exited_on is None

    response = client.post(url, {**chosen, "apply": "1", "reason": "", "exited_on": "2026-12-01"})
    assert "请填写退出理由" in response.content.decode()
    response = client.post(
        url, {**chosen, "apply": "1", "reason": "并入 Z-11", "exited_on": "2026-12-01"}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert str(item.exited_on) == "2026-12-01"
    assert CatalogueChange.objects.get(item=item, action="exit").reason == "并入 Z-11"

"""三个清单 with its history, 上情下达 notices, and the monthly work list."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from governance import services
from governance.models import CatalogueChange, CatalogueItem, NoticeDelivery, WorkList
from grids.models import Role
from tests.factories import user_with_scope
from tests.governance.factories import report, triaged

K = CatalogueItem.ListKind


@pytest.fixture
def self_governance(township, township_staff):
    return services.catalogue_item_add(
        actor=township_staff,
        township=township,
        list_kind=K.SELF_GOVERNANCE,
        code="Z-03",
        title="村内公共设施管护",
        legal_basis="村民委员会组织法第八条",
    )


@pytest.fixture
def burden(township, township_staff):
    return services.catalogue_item_add(
        actor=township_staff,
        township=township,
        list_kind=K.BURDEN_RELIEF,
        code="J-02",
        title="要求村里出具无犯罪证明",
    )


def test_catalogue_keeps_add_change_exit_history(self_governance, township_staff):
    services.catalogue_item_change(
        actor=township_staff, item=self_governance, reason="表述调整", title="村内公共设施日常管护"
    )
    services.catalogue_item_exit(
        actor=township_staff,
        item=self_governance,
        reason="并入其他事项",
        exited_on=dt.date(2026, 12, 1),
    )
    history = list(
        CatalogueChange.objects.filter(item=self_governance).values_list("action", flat=True)
    )
    assert history == ["add", "change", "exit"]
    change = CatalogueChange.objects.get(item=self_governance, action="change")
    assert change.before["title"] == "村内公共设施管护"
    assert change.after["title"] == "村内公共设施日常管护"
    with pytest.raises(ValidationError):
        services.catalogue_item_exit(actor=township_staff, item=self_governance, reason="again")


def test_burden_relief_item_cannot_be_assigned_to_a_village(burden, representative, village_clerk):
    request = report(representative)
    with pytest.raises(ValidationError) as exc:
        services.request_triage(
            actor=village_clerk, request=request, level="village", catalogue_item=burden
        )
    assert "减负" in str(exc.value)
    with pytest.raises(ValidationError):
        services.work_list_publish(
            actor=village_clerk,
            village=representative.grid.village,
            month=dt.date(2026, 11, 1),
            items=[("开具证明", burden, True)],
        )
    assert not WorkList.objects.exists()


def test_exited_item_cannot_be_assigned_to_a_village(
    self_governance, township_staff, representative, village_clerk
):
    services.catalogue_item_exit(actor=township_staff, item=self_governance, reason="退出")
    request = report(representative)
    with pytest.raises(ValidationError):
        services.request_triage(
            actor=village_clerk, request=request, level="village", catalogue_item=self_governance
        )


def test_item_in_villages_hands_cannot_move_to_burden_relief(
    self_governance, township_staff, representative, village_clerk
):
    request = report(representative)
    services.request_triage(
        actor=village_clerk, request=request, level="village", catalogue_item=self_governance
    )
    with pytest.raises(ValidationError):
        services.catalogue_item_change(
            actor=township_staff, item=self_governance, reason="x", list_kind=K.BURDEN_RELIEF
        )
    self_governance.refresh_from_db()
    assert self_governance.list_kind == K.SELF_GOVERNANCE


def test_township_level_may_cite_burden_relief_item(
    burden, representative, village_clerk, department
):
    request = report(representative)
    services.request_triage(
        actor=village_clerk,
        request=request,
        level="township",
        department=department,
        catalogue_item=burden,
    )
    request.refresh_from_db()
    assert request.catalogue_item == burden


def test_notice_delivery_unique_per_household_in_database(representative, village_clerk):
    notice = services.notice_publish(
        actor=village_clerk, title="通知", body="内容", village=representative.grid.village
    )
    household = representative.households.first()
    services.notice_confirm(actor=representative.user, notice=notice, household=household)
    with pytest.raises(IntegrityError), transaction.atomic():
        NoticeDelivery.objects.create(
            notice=notice,
            household=household,
            confirmed_by=representative.user,
            confirmed_at=notice.published_at,
        )


def test_notice_for_other_village_cannot_be_confirmed(
    representative, other_village, township_staff
):
    notice = services.notice_publish(
        actor=township_staff, title="别村通知", body="内容", village=other_village
    )
    with pytest.raises(ValidationError):
        services.notice_confirm(
            actor=representative.user, notice=notice, household=representative.households.first()
        )


def test_only_township_staff_publish_to_whole_township(village_clerk, township_staff):
    with pytest.raises(PermissionDenied):
        services.notice_publish(actor=village_clerk, title="全镇", body="内容")
    notice = services.notice_publish(actor=township_staff, title="全镇", body="内容")
    assert notice.village is None


def test_village_clerk_cannot_publish_to_other_village(village_clerk, other_village):
    with pytest.raises(PermissionDenied):
        services.notice_publish(actor=village_clerk, title="x", body="y", village=other_village)


def test_work_list_one_per_village_and_month(village_clerk, village):
    services.work_list_publish(
        actor=village_clerk,
        village=village,
        month=dt.date(2026, 11, 15),
        items=[("走访", None, True)],
    )
    work_list = WorkList.objects.get()
    assert work_list.month == dt.date(2026, 11, 1)
    with pytest.raises(ValidationError):
        services.work_list_publish(
            actor=village_clerk,
            village=village,
            month=dt.date(2026, 11, 1),
            items=[("x", None, True)],
        )


def test_representative_cannot_mark_other_reps_household_done(
    representative, other_rep, village_clerk, village
):
    work_list = services.work_list_publish(
        actor=village_clerk,
        village=village,
        month=dt.date(2026, 11, 1),
        items=[("宣传", None, True)],
    )
    item = work_list.items.get()
    with pytest.raises(PermissionDenied):
        services.work_item_mark_done(
            actor=representative.user, item=item, household=other_rep.households.first()
        )


def test_other_village_clerk_cannot_publish_work_list(other_village, village):
    clerk = user_with_scope(Role.VILLAGE_STAFF, village=other_village)
    with pytest.raises(PermissionDenied):
        services.work_list_publish(
            actor=clerk, village=village, month=dt.date(2026, 11, 1), items=[("x", None, True)]
        )


def test_triaged_request_still_requires_catalogue_when_township_has_one(
    self_governance, representative, village_clerk
):
    request = triaged(representative, village_clerk, level="grid")
    assert request.catalogue_item is None  # grid-level needs no citation


# --- citations: work-list items cite the catalogue when the township keeps one ----------------


def test_work_list_item_without_citation_is_refused_when_township_has_a_catalogue(
    self_governance, village_clerk, village
):
    with pytest.raises(ValidationError) as exc:
        services.work_list_publish(
            actor=village_clerk,
            village=village,
            month=dt.date(2026, 11, 1),
            items=[("管护村道", self_governance, True), ("上门量血压", None, True)],
        )
    assert "三个清单" in str(exc.value) and "上门量血压" in str(exc.value)
    assert not WorkList.objects.exists()


def test_work_list_may_go_without_citation_when_only_burden_relief_items_exist(
    burden, village_clerk, village
):
    services.work_list_publish(
        actor=village_clerk,
        village=village,
        month=dt.date(2026, 11, 1),
        items=[("走访", None, True)],
    )
    assert WorkList.objects.count() == 1


def test_work_list_form_asks_for_the_citation_and_keeps_what_was_typed(
    self_governance, village_clerk, village, login
):
    from django.urls import reverse

    client = login(village_clerk)
    data = {
        "village": village.pk,
        "month": "2026-11",
        "form-TOTAL_FORMS": "2",
        "form-INITIAL_FORMS": "0",
        "form-0-title": "清理村道杂草",
        "form-0-per_household": "",
        "form-1-title": "",
        "form-1-catalogue_item": str(self_governance.pk),
        "form-1-per_household": "on",
    }
    response = client.post(reverse("staff:work_lists"), data)
    html = response.content.decode()
    assert "请选择这一项对应的“三个清单”事项" in html and "清理村道杂草" in html
    assert not WorkList.objects.exists()

    data["form-0-catalogue_item"] = str(self_governance.pk)
    assert client.post(reverse("staff:work_lists"), data).status_code == 302
    titles = list(WorkList.objects.get().items.order_by("id").values_list("title", flat=True))
    # A row with only a catalogue item takes the item's own title.
    assert titles == ["清理村道杂草", "村内公共设施管护"]


def test_catalogue_change_and_exit_need_a_reason(self_governance, township_staff):
    with pytest.raises(ValidationError) as exc:
        services.catalogue_item_change(
            actor=township_staff, item=self_governance, reason="  ", title="新名称"
        )
    assert "调整理由" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        services.catalogue_item_exit(actor=township_staff, item=self_governance, reason="")
    assert "退出理由" in str(exc.value)
    self_governance.refresh_from_db()
    assert self_governance.title == "村内公共设施管护" and self_governance.exited_on is None
    assert CatalogueChange.objects.filter(item=self_governance).count() == 1


def test_only_the_townships_own_staff_keep_its_catalogue(
    township, township_staff, village_clerk, representative, self_governance
):
    """Given people outside the township's staff (its village clerk, a representative, another
    township's staff, a department handler), when they add, change or exit an item, then each is
    refused and nothing is written; a superuser may."""
    from tests.factories import TownshipFactory, UserFactory
    from tests.governance.factories import DepartmentFactory, department_handler

    elsewhere = user_with_scope(
        Role.TOWNSHIP_STAFF, township=TownshipFactory(code="430903199"), is_staff=True
    )
    handler = department_handler(DepartmentFactory(township=township))
    for outsider in (village_clerk, representative.user, elsewhere, handler):
        with pytest.raises(PermissionDenied, match="只有本乡镇的乡镇干部"):
            services.catalogue_item_add(
                actor=outsider,
                township=township,
                list_kind=K.SELF_GOVERNANCE,
                code="Z-09",
                title="调解民间纠纷",
            )
        with pytest.raises(PermissionDenied, match="只有本乡镇的乡镇干部"):
            services.catalogue_item_change(
                actor=outsider, item=self_governance, reason="改名", title="别的名称"
            )
        with pytest.raises(PermissionDenied, match="只有本乡镇的乡镇干部"):
            services.catalogue_item_exit(actor=outsider, item=self_governance, reason="退出")
    assert list(CatalogueItem.objects.values_list("code", "title", "exited_on")) == [
        ("Z-03", "村内公共设施管护", None)
    ]
    assert CatalogueChange.objects.count() == 1
    admin = UserFactory(is_superuser=True, is_staff=True)
    services.catalogue_item_add(
        actor=admin, township=township, list_kind=K.SELF_GOVERNANCE, code="Z-09", title="调解"
    )
    assert CatalogueItem.objects.count() == 2


def test_only_the_townships_own_staff_set_up_its_departments_and_categories(
    township, township_staff, village_clerk, representative
):
    """Given a village clerk, a representative and another township's staff, when they create a
    department, a handler or a request category of this township, then each is refused and
    nothing is written; the township's own staff may."""
    from governance.models import Department, DepartmentMember, RequestCategory
    from tests.factories import TownshipFactory, UserFactory

    elsewhere = user_with_scope(
        Role.TOWNSHIP_STAFF, township=TownshipFactory(code="430903198"), is_staff=True
    )
    department = services.department_create(actor=township_staff, township=township, name="民政办")
    newcomer = UserFactory()
    for outsider in (village_clerk, representative.user, elsewhere):
        with pytest.raises(PermissionDenied, match="只有本乡镇的乡镇干部"):
            services.department_create(actor=outsider, township=township, name="水利站")
        with pytest.raises(PermissionDenied, match="只有本乡镇的乡镇干部"):
            services.department_member_add(actor=outsider, department=department, user=newcomer)
        with pytest.raises(PermissionDenied, match="只有本乡镇的乡镇干部"):
            services.request_category_create(actor=outsider, township=township, name="道路")
    assert list(Department.objects.values_list("name", flat=True)) == ["民政办"]
    assert not DepartmentMember.objects.exists()
    assert not RequestCategory.objects.filter(name="道路").exists()
    services.request_category_create(actor=township_staff, township=township, name="道路")
    services.department_member_add(actor=township_staff, department=department, user=newcomer)
    assert DepartmentMember.objects.filter(user=newcomer, department=department).exists()

"""村里设置初始密码: staff give a representative a first password; it must be changed at sign-in."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from grids import services
from grids.models import AuditEntry, Role
from tests.factories import GridFactory, representative_user, user_with_scope

pytestmark = pytest.mark.django_db

INITIAL = "Changdong-2024"


def _set_url(rep):
    return reverse("admin:grids_representative_password", args=[rep.pk])


def _set(client, rep, password=INITIAL, again=None):
    return client.post(
        _set_url(rep), {"password1": password, "password2": again or password}, follow=True
    )


def test_clerk_sets_initial_password_and_representative_must_change_it(
    login, village_clerk, representative
):
    # Given a village clerk who sets the initial password of a representative of the village
    response = _set(login(village_clerk), representative)
    assert "已为" in response.content.decode()
    user = representative.user
    user.refresh_from_db()
    assert user.check_password(INITIAL) and user.password_must_change

    # When the representative signs in with their phone number
    phone = Client()
    signed_in = phone.post(reverse("login"), {"username": user.username, "password": INITIAL})
    assert signed_in.status_code == 302

    # Then every page sends them to the password change page first
    blocked = phone.get(reverse("grids:my_households"))
    assert blocked.status_code == 302 and blocked["Location"] == reverse("password_change")
    assert "初始密码" in phone.get(reverse("password_change")).content.decode()

    # And once they chose their own password, the pages open
    changed = phone.post(
        reverse("password_change"),
        {"old_password": INITIAL, "new_password1": "Wode-mima-77", "new_password2": "Wode-mima-77"},
    )
    assert changed.status_code == 302
    user.refresh_from_db()
    assert not user.password_must_change
    assert phone.get(reverse("grids:my_households")).status_code == 200
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"password_set", "representative_password_set", "password_change"} <= actions
    assert all(INITIAL not in str(e.after) for e in AuditEntry.objects.all())


def test_weak_initial_password_is_refused_in_chinese(login, village_clerk, representative):
    page = _set(login(village_clerk), representative, password="12345678").content.decode()

    assert "数字" in page or "常见" in page
    representative.user.refresh_from_db()
    assert not representative.user.password_must_change


def test_mismatched_passwords_are_refused(login, village_clerk, representative):
    page = _set(login(village_clerk), representative, again="Other-pass-99").content.decode()

    assert "两次输入的密码不一致" in page


def test_township_staff_set_passwords_in_their_township(login, township_staff, representative):
    _set(login(township_staff), representative)

    representative.user.refresh_from_db()
    assert representative.user.check_password(INITIAL)


def test_clerk_of_another_village_cannot_open_the_page(login, other_village, representative):
    clerk = user_with_scope(Role.VILLAGE_STAFF, village=other_village, is_staff=True)

    response = login(clerk).post(
        _set_url(representative), {"password1": INITIAL, "password2": INITIAL}
    )

    assert response.status_code in (302, 404)
    representative.user.refresh_from_db()
    assert not representative.user.check_password(INITIAL)


def test_service_refuses_a_staff_account_and_other_villages(village, other_village, grid):
    rep = representative_user(grid)
    rep.user.is_staff = True
    rep.user.save()
    clerk = user_with_scope(Role.VILLAGE_STAFF, village=village)
    foreign = user_with_scope(Role.VILLAGE_STAFF, village=other_village)

    with pytest.raises(ValidationError, match="不是联户代表账号"):
        services.representative_password_set(actor=clerk, representative=rep, password=INITIAL)
    with pytest.raises(ValidationError, match="只能管理本村"):
        services.representative_password_set(
            actor=foreign, representative=representative_user(grid), password=INITIAL
        )


def test_representative_without_login_gets_a_clear_answer(village, grid):
    rep = representative_user(GridFactory(village=village))
    rep.user = None
    rep.save()
    clerk = user_with_scope(Role.VILLAGE_STAFF, village=village)

    with pytest.raises(ValidationError, match="还没有手机登录账号"):
        services.representative_password_set(actor=clerk, representative=rep, password=INITIAL)


def test_representative_list_links_to_setting_the_password(login, village_clerk, representative):
    page = login(village_clerk).get(reverse("grids:representative_list")).content.decode()

    assert _set_url(representative) in page

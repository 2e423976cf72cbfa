"""Hostile input through the staff admin's own forms (the admin is no back door: its saves go
through the services, so a refusal is a Chinese message and nothing is written)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from hypothesis import strategies as st

from governance import admin as governance_admin
from governance import services as gov
from grids import admin as grids_admin
from grids import forms as grids_forms
from points import admin as points_admin
from tests.security.form_coverage import covers
from tests.security.hostile import NASTY, Effect, form_fields, hunt, maybe

pytestmark = pytest.mark.django_db

AUDIT = "grids.AuditEntry"
USER = get_user_model()._meta.label
DATES = st.one_of(st.sampled_from(["2026-11-01", "0001-01-01", "9999-12-31", "2024-02-30"]), NASTY)


@pytest.fixture
def o(world):
    return world.obj


@covers(grids_forms.RepresentativePasswordForm)
def test_representative_initial_password(o, client_for):
    client = client_for("clerk_x")
    password = st.one_of(
        st.sampled_from(["Cun-mi-2026!", "12345678", "13912345678", "短", "p" * 5000]), NASTY
    )
    hunt(
        client,
        reverse("admin:grids_representative_password", args=[o.rep_a.pk]),
        {"password1": "Cun-mi-2026!", "password2": "Cun-mi-2026!"},
        st.one_of(
            st.fixed_dictionaries({"password1": password, "password2": password}),
            password.map(lambda p: {"password1": p, "password2": p}),
        ),
        # The new password (on the account) and the appointment's record of who set it.
        effect=Effect(grows={AUDIT: 2}, changes=frozenset({USER})),
        watch=[USER],
    )


@covers(grids_admin.ScopeForm)
def test_scope_set_in_the_user_admin(o, client_for):
    client = client_for("superuser")
    url = reverse("admin:grids_user_change", args=[o.clerk_x2.pk])
    page = form_fields(client, url)
    valid = {**page, "scope-0-role": "grid_leader", "scope-0-grid": o.grid_a.pk}
    places = {
        "scope-0-township": st.one_of(st.just(o.township.pk), st.just(""), NASTY),
        "scope-0-village": st.one_of(st.just(o.village_x.pk), st.just(o.village_y.pk), NASTY),
        "scope-0-grid": st.one_of(st.just(o.grid_a.pk), st.just(""), NASTY),
    }
    hunt(
        client,
        url,
        valid,
        st.builds(
            lambda changed: {**page, **changed},
            st.fixed_dictionaries(
                {
                    "scope-0-role": st.one_of(
                        st.sampled_from(
                            ["village_staff", "township_staff", "grid_leader", "representative"]
                        ),
                        NASTY,
                    ),
                    **places,
                }
            ),
        ),
        effect=Effect(grows={AUDIT: (1, 2)}, changes=frozenset({"grids.Scope", USER})),
        watch=["grids.Scope", USER],
    )


@covers(governance_admin.CatalogueItemAdminForm)
def test_catalogue_item_added_in_the_admin(o, client_for):
    client = client_for("township")
    url = reverse("admin:governance_catalogueitem_add")
    page = form_fields(client, url)
    valid = {
        **page,
        "township": o.township.pk,
        "list_kind": "self_governance",
        "code": "Z-01",
        "title": "村务公开",
        "added_on": "2026-01-01",
        "reason": "村民会议决定",
    }
    hunt(
        client,
        url,
        valid,
        st.builds(
            lambda changed: {**page, **changed},
            st.fixed_dictionaries(
                {
                    "township": st.one_of(maybe(o.township.pk), st.just(o.township.pk + 1000)),
                    "list_kind": st.one_of(st.sampled_from(["burden_relief"]), maybe("")),
                    "code": maybe("Z-01"),
                    "title": maybe("村务公开"),
                    "legal_basis": NASTY,
                    "added_on": DATES,
                    "reason": NASTY,
                }
            ),
        ),
        effect=Effect(
            grows={"governance.CatalogueItem": 1, "governance.CatalogueChange": 1, AUDIT: (0, 1)}
        ),
    )


@pytest.fixture
def catalogue_item(o, world):
    return gov.catalogue_item_add(
        actor=world.users["township"],
        township=o.township,
        list_kind="self_governance",
        code="Z-02",
        title="人居环境整治",
        legal_basis="",
        added_on=dt.date(2026, 1, 1),
        reason="列入",
    )


@covers(governance_admin.CatalogueExitForm)
def test_catalogue_exit_in_the_admin(o, catalogue_item, client_for):
    hunt(
        client_for("township"),
        reverse("admin:governance_catalogueitem_changelist"),
        {
            "action": "exit_items",
            "_selected_action": [catalogue_item.pk],
            "apply": "1",
            "reason": "已由部门承担",
            "exited_on": timezone.localdate().isoformat(),
        },
        st.fixed_dictionaries(
            {
                "action": st.just("exit_items"),
                "_selected_action": st.one_of(st.just([catalogue_item.pk]), NASTY),
                "apply": st.just("1"),
                "reason": maybe("已由部门承担"),
                "exited_on": DATES,
            }
        ),
        effect=Effect(
            grows={"governance.CatalogueChange": 1, AUDIT: (0, 1)},
            changes=frozenset({"governance.CatalogueItem"}),
        ),
        watch=["governance.CatalogueItem"],
    )


@covers(points_admin.StockInForm)
def test_stock_in_in_the_admin(o, client_for):
    client = client_for("clerk_x")
    url = reverse("admin:points_stockmovement_add")
    product = o.shop.products.order_by("pk").first()
    hunt(
        client,
        url,
        {"product": product.pk, "kind": "donation", "quantity": 5, "donor": "乡贤李总"},
        st.fixed_dictionaries(
            {
                "product": maybe(product.pk),
                "kind": st.one_of(
                    st.sampled_from(["purchase", "donation", "correction", "redemption"]), NASTY
                ),
                "quantity": st.one_of(
                    st.sampled_from(["5", "-5", "0", str(2**31), str(10**20)]), NASTY
                ),
                "cost_yuan": st.one_of(
                    st.sampled_from(["50.00", "-1", "1e10", "NaN", "0.001"]), NASTY
                ),
                "donor": NASTY,
                "note": NASTY,
            }
        ),
        effect=Effect(
            grows={"points.StockMovement": 1, AUDIT: (0, 1)},
            changes=frozenset({"points.Product"}),
        ),
        watch=["points.Product"],
    )


def test_resident_added_in_the_admin_with_hostile_id_numbers_and_phones(o, client_for):
    """Not a form class of ours (the admin builds it), but where staff type 身份证号 by hand."""
    client = client_for("clerk_x")
    url = reverse("admin:grids_resident_add")
    page = form_fields(client, url)
    valid = {
        **page,
        "household": o.household.pk,
        "name": "吴秀英",
        "relation": "妻",
        "gender": "F",
        "status": page.get("status") or "present",
        "id_number": "430903197001011220",
        "phone": "13900002222",
    }
    ids = st.one_of(
        st.sampled_from(
            [
                "430903197001011220",
                "43090319700101122X",  # wrong check character
                "430903197002300012",  # 2月30日
                "430903299901011234",  # born in the future
                "４３０９０３１９７００１０１１２２０",
                o.head.id_number,  # already someone else's
            ]
        ),
        st.text(max_size=20),
    )
    hunt(
        client,
        url,
        valid,
        st.builds(
            lambda changed: {**valid, **changed},
            st.fixed_dictionaries(
                {
                    "household": st.one_of(st.just(o.household.pk), st.just(o.household_y.pk)),
                    "id_number": ids,
                    "phone": st.one_of(
                        st.sampled_from(["13900002222", "+86 139 0000 2222", "1390000222", "²"]),
                        NASTY,
                    ),
                    "birth_date": DATES,
                }
            ),
        ),
        effect=Effect(grows={"grids.Resident": 1, AUDIT: (1, 2)}),
    )

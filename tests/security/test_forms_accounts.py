"""Hostile input at the login and password pages: a Chinese message, never a 500; a failed
login changes nothing but the throttle's counters (in the cache, not the database)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from hypothesis import strategies as st

from grids import forms
from tests.security.form_coverage import covers
from tests.security.hostile import Effect, hunt, maybe

pytestmark = pytest.mark.django_db

USER = get_user_model()._meta.label
PASSWORD = "pass-1234-word"  # tests.factories.UserFactory


@pytest.fixture
def o(world):
    return world.obj


@covers(forms.LoginForm)
def test_login(world):
    user = world.users["clerk_x"]
    hunt(
        Client(REMOTE_ADDR="198.51.100.20"),
        reverse("login"),
        {"username": user.username, "password": PASSWORD},
        st.fixed_dictionaries(
            {
                "username": st.one_of(maybe(user.username), st.just(user.username.upper())),
                "password": maybe(PASSWORD),
                "next": st.one_of(
                    st.just(""), st.sampled_from(["https://evil.example/", "//evil", "/staff/"])
                ),
            }
        ),
        # Signing in only stamps the account's last login.
        effect=Effect(changes=frozenset({USER})),
        watch=[USER],
    )


def test_login_never_redirects_off_site(world):
    user = world.users["clerk_x"]
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = Client().post(
            reverse("login"), {"username": user.username, "password": PASSWORD, "next": target}
        )
        assert response.status_code == 302
        assert "evil" not in response["Location"]


def test_password_change(world, client_for):
    hunt(
        lambda: client_for("rep_a"),
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Zi-ji-de-2026",
            "new_password2": "Zi-ji-de-2026",
        },
        st.fixed_dictionaries(
            {
                "old_password": maybe(PASSWORD),
                "new_password1": maybe("Zi-ji-de-2026"),
                "new_password2": maybe("Zi-ji-de-2026"),
            }
        ),
        effect=Effect(grows={"grids.AuditEntry": 1}, changes=frozenset({USER})),
        watch=[USER],
    )

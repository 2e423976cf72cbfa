"""Login: throttled per account and per address, a clear lock-out message, logout everywhere."""

import pytest
from django.test import Client
from django.urls import reverse

from grids import login_throttle

pytestmark = pytest.mark.django_db


def _attempt(client, username, password="wrong-password"):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_account_locked_after_five_failures_even_with_right_password(client, representative):
    username = representative.user.username
    for _ in range(login_throttle.MAX_FAILURES_PER_ACCOUNT):
        assert "密码不正确" in _attempt(client, username).content.decode()

    response = _attempt(client, username, "pass-1234-word")

    assert "已暂时锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_account(client, representative, village_clerk):
    for _ in range(login_throttle.MAX_FAILURES_PER_ACCOUNT):
        _attempt(client, representative.user.username)

    response = _attempt(Client(REMOTE_ADDR="10.9.9.9"), village_clerk.username, "pass-1234-word")

    assert response.status_code == 302


def test_address_locked_after_many_failures_across_accounts(representative):
    client = Client(REMOTE_ADDR="10.1.2.3")
    for n in range(login_throttle.MAX_FAILURES_PER_ADDRESS):
        _attempt(client, f"guess{n}")

    response = _attempt(client, representative.user.username, "pass-1234-word")

    assert "已暂时锁定" in response.content.decode()


def test_success_resets_account_counter(representative):
    # Given four wrong passwords for the account, then the right one
    username = representative.user.username
    first = Client(REMOTE_ADDR="10.3.0.1")
    for _ in range(login_throttle.MAX_FAILURES_PER_ACCOUNT - 1):
        _attempt(first, username)
    assert _attempt(first, username, "pass-1234-word").status_code == 302

    # When four more wrong passwords follow (eight in all, from another address)
    second = Client(REMOTE_ADDR="10.3.0.2")
    for _ in range(login_throttle.MAX_FAILURES_PER_ACCOUNT - 1):
        _attempt(second, username)

    # Then the account is not locked: the success cleared the first four
    assert _attempt(second, username, "pass-1234-word").status_code == 302


def test_without_the_success_the_same_failures_lock_the_account(representative):
    # The counterpart of the test above: the same eight failures with no success in between lock.
    username = representative.user.username
    for address in ("10.3.1.1", "10.3.1.2"):
        client = Client(REMOTE_ADDR=address)
        for _ in range(login_throttle.MAX_FAILURES_PER_ACCOUNT - 1):
            _attempt(client, username)

    response = _attempt(Client(REMOTE_ADDR="10.3.1.3"), username, "pass-1234-word")

    assert "已暂时锁定" in response.content.decode()


def test_logout_everywhere_ends_every_session(representative):
    phone, office = Client(), Client()
    for c in (phone, office):
        assert _attempt(c, representative.user.username, "pass-1234-word").status_code == 302
    assert office.get(reverse("grids:my_households")).status_code == 200

    phone.post(reverse("logout_everywhere"))

    assert office.get(reverse("grids:my_households")).status_code == 302
    assert phone.get(reverse("grids:my_households")).status_code == 302


def test_weak_password_is_refused_with_chinese_message(login, representative):
    response = login(representative.user).post(
        reverse("password_change"),
        {
            "old_password": "pass-1234-word",
            "new_password1": "12345678",
            "new_password2": "12345678",
        },
    )

    assert response.status_code == 200
    assert "密码" in response.content.decode()
    representative.user.refresh_from_db()
    assert representative.user.check_password("pass-1234-word")


def test_sessions_end_when_browser_closes(settings):
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_COOKIE_AGE <= 12 * 3600

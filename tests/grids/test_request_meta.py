"""The client's address behind nginx: X-Forwarded-For is read only as far as our proxies wrote it."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from grids import login_throttle
from grids.request_meta import client_address

PROXY = "127.0.0.1"


def _request(xff=None, remote=PROXY):
    meta = {"REMOTE_ADDR": remote}
    if xff is not None:
        meta["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().get("/", **meta)


def test_header_is_ignored_without_trusted_proxies(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    assert client_address(_request("203.0.113.7")) == PROXY


def test_one_proxy_takes_the_address_nginx_appended(settings):
    settings.TRUSTED_PROXY_COUNT = 1

    # The client forged "1.2.3.4"; nginx appended the address it really saw.
    assert client_address(_request("1.2.3.4, 203.0.113.7")) == "203.0.113.7"


def test_two_proxies_skip_the_inner_one(settings):
    settings.TRUSTED_PROXY_COUNT = 2

    assert client_address(_request("1.2.3.4, 203.0.113.7, 10.0.0.2")) == "203.0.113.7"


@pytest.mark.parametrize("xff", [None, "", "not-an-address", " , "])
def test_missing_or_bad_header_falls_back_to_the_peer(settings, xff):
    settings.TRUSTED_PROXY_COUNT = 1

    assert client_address(_request(xff)) == PROXY


def test_fewer_entries_than_proxies_falls_back_to_the_peer(settings):
    settings.TRUSTED_PROXY_COUNT = 2

    assert client_address(_request("203.0.113.7")) == PROXY


def test_ipv6_is_normalised(settings):
    settings.TRUSTED_PROXY_COUNT = 1

    assert client_address(_request("2001:DB8::0001")) == "2001:db8::1"


def _fail_from(client, n, prefix):
    for i in range(n):
        client.post(reverse("login"), {"username": f"{prefix}{i}", "password": "wrong-password"})


@pytest.mark.django_db
def test_behind_nginx_one_noisy_address_does_not_lock_out_the_site(settings, representative):
    # Given nginx in front (every request from 127.0.0.1) and TRUSTED_PROXY_COUNT=1
    settings.TRUSTED_PROXY_COUNT = 1
    noisy = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.9")
    villager = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.20")

    # When one address fails twenty times
    _fail_from(noisy, login_throttle.MAX_FAILURES_PER_ADDRESS, "guess")

    # Then that address is locked, and a representative elsewhere still signs in
    locked = noisy.post(
        reverse("login"), {"username": representative.user.username, "password": "pass-1234-word"}
    )
    assert "已暂时锁定" in locked.content.decode()
    ok = villager.post(
        reverse("login"), {"username": representative.user.username, "password": "pass-1234-word"}
    )
    assert ok.status_code == 302


@pytest.mark.django_db
def test_without_trusted_proxy_a_forged_header_does_not_escape_the_lock(settings, representative):
    settings.TRUSTED_PROXY_COUNT = 0
    _fail_from(Client(REMOTE_ADDR="10.1.2.3"), login_throttle.MAX_FAILURES_PER_ADDRESS, "guess")

    response = Client(REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="203.0.113.99").post(
        reverse("login"), {"username": representative.user.username, "password": "pass-1234-word"}
    )

    assert "已暂时锁定" in response.content.decode()

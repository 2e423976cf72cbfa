"""Redis down: the cache degrades to nothing, logins and pages keep working, /healthz says so."""

import pytest
from django.core.cache import caches
from django.test import override_settings
from django.urls import reverse

DEAD_REDIS = "redis://127.0.0.1:6399/0"  # nothing listens there
DEAD_CACHE = {
    "default": {
        "BACKEND": "grids.cache.ResilientRedisCache",
        "LOCATION": DEAD_REDIS,
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead_cache():
    # override_settings(CACHES=...) makes Django drop its cache connections (setting_changed).
    with override_settings(CACHES=DEAD_CACHE):
        yield caches["default"]


def test_cache_operations_return_defaults_when_redis_is_down(dead_cache):
    dead_cache.set("k", 1)

    assert dead_cache.get("k", "fallback") == "fallback"
    assert dead_cache.add("k", 1) is False
    assert dead_cache.incr("k") == 1


def test_login_works_while_redis_is_down(dead_cache, client, representative):
    response = client.post(
        reverse("login"), {"username": representative.user.username, "password": "pass-1234-word"}
    )

    assert response.status_code == 302
    assert client.get(reverse("grids:my_households")).status_code == 200


def test_healthz_names_the_broker_when_it_is_down(client, settings):
    settings.CELERY_BROKER_URL = DEAD_REDIS

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"].startswith("down")

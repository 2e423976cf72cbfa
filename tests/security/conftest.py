import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client

from tests.security.world import build_world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once per module inside a transaction that is rolled back at the end.

    Each test runs in a savepoint inside it (pytest-django's ``db``), so what a test writes is
    undone before the next. The roles' sessions are made here once, so tests do not log in.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        built = build_world()
        built.sessions = {}
        for role, user in built.users.items():
            if user is not None:
                client = Client()
                client.force_login(user)
                built.sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
        yield built
        transaction.set_rollback(True)


@pytest.fixture
def client_for(world, db):
    def _client(role: str) -> Client:
        client = Client()
        if role in world.sessions:
            client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
        return client

    return _client


@pytest.fixture(scope="module")
def stages(world, django_db_blocker):
    """Objects at each step a form acts on, added inside the world's transaction (undone with it)."""
    from tests.security.stages import build_stages

    with django_db_blocker.unblock():
        return build_stages(world)

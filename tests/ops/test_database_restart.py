"""PostgreSQL restarted under the app: the work in flight fails whole, and the app reconnects.

A restart ends every server process; ``pg_terminate_backend`` on the app's own connection does
the same to it without stopping the shared test server.
"""

import os

import psycopg2
import pytest
from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from django.urls import reverse

from grids import services
from grids.models import Household

pytestmark = pytest.mark.django_db(transaction=True)


def _require_postgres():
    if connection.vendor == "postgresql":
        return
    if os.environ.get("CI"):
        pytest.fail("CI runs on PostgreSQL: the restart test must run there")
    pytest.skip("needs PostgreSQL (set DATABASE_URL)")


def _kill_app_connection() -> None:
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    db = connection.settings_dict
    with (
        psycopg2.connect(
            dbname=db["NAME"],
            host=db.get("HOST") or "127.0.0.1",
            port=db.get("PORT") or 5432,
            user=db.get("USER") or "postgres",
        ) as admin,
        admin.cursor() as cursor,
    ):
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    admin.close()


def test_service_interrupted_by_restart_writes_nothing_and_app_reconnects(client, grid):
    _require_postgres()
    before = Household.objects.count()

    with pytest.raises((OperationalError, InterfaceError)), transaction.atomic():
        services.household_create(actor=None, grid=grid, number="RESTART-1")
        _kill_app_connection()
        services.household_create(actor=None, grid=grid, number="RESTART-2")
    close_old_connections()

    assert Household.objects.count() == before  # the first write went with its transaction
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_next_request_after_restart_is_served(client, grid):
    _require_postgres()
    _kill_app_connection()

    # What request_started does in production (the test client switches it off): with
    # CONN_HEALTH_CHECKS the dead persistent connection is noticed and dropped.
    close_old_connections()
    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json()["database"] == "ok"

import pytest

from tests.factories import representative_user
from tests.governance.factories import DepartmentFactory, department_handler


@pytest.fixture
def department(township):
    return DepartmentFactory(township=township, name="农业农村办", ack_hours=24, handle_days=15)


@pytest.fixture
def other_department(township):
    return DepartmentFactory(township=township, name="民政办")


@pytest.fixture
def handler(department):
    return department_handler(department)


@pytest.fixture
def other_handler(other_department):
    return department_handler(other_department)


@pytest.fixture
def other_rep(other_grid):
    """A representative of the neighbouring grid, with their own households."""
    return representative_user(other_grid, households=3)


def _append_only_migration():
    import importlib

    return importlib.import_module("governance.migrations.0002_request_event_append_only")


@pytest.fixture(autouse=True)
def request_event_triggers(request):
    """Keep the append-only triggers in place for every test, and let SQLite's flush through.

    Django flushes a transactional test's SQLite database with DELETE (PostgreSQL uses TRUNCATE,
    which row triggers do not see), so the triggers are dropped just before that flush and
    re-created before the next test. Nothing else ever removes them.
    """
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        yield
        return
    transactional = bool(marker.kwargs.get("transaction"))
    request.getfixturevalue("transactional_db" if transactional else "db")
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    migration = _append_only_migration()
    with connection.cursor() as cursor:
        for statement in migration.SQLITE_UP:
            cursor.execute(statement.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS"))
    yield
    if transactional:
        with connection.cursor() as cursor:
            for statement in migration.SQLITE_DOWN:
                cursor.execute(statement)


# The Playwright fixtures live with the other browser tests; they are reused here.

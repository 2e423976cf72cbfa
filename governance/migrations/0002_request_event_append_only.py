"""RequestEvent is append-only: the database itself refuses UPDATE and DELETE on it."""

from django.db import migrations

MESSAGE = "request events are append-only"

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION governance_requestevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER governance_requestevent_no_update BEFORE UPDATE ON governance_requestevent
    FOR EACH ROW EXECUTE FUNCTION governance_requestevent_append_only();
CREATE TRIGGER governance_requestevent_no_delete BEFORE DELETE ON governance_requestevent
    FOR EACH ROW EXECUTE FUNCTION governance_requestevent_append_only();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS governance_requestevent_no_update ON governance_requestevent;
DROP TRIGGER IF EXISTS governance_requestevent_no_delete ON governance_requestevent;
DROP FUNCTION IF EXISTS governance_requestevent_append_only();
"""
SQLITE_UP = [
    f"""CREATE TRIGGER governance_requestevent_no_update BEFORE UPDATE ON governance_requestevent
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
    f"""CREATE TRIGGER governance_requestevent_no_delete BEFORE DELETE ON governance_requestevent
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS governance_requestevent_no_update;",
    "DROP TRIGGER IF EXISTS governance_requestevent_no_delete;",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP)
    elif vendor == "sqlite":
        for statement in SQLITE_UP:
            schema_editor.execute(statement)
    else:
        raise RuntimeError(f"No append-only trigger for database vendor {vendor!r}")


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN)
    elif vendor == "sqlite":
        for statement in SQLITE_DOWN:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("governance", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]

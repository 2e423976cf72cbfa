"""The ledger is append-only in the database itself: UPDATE and DELETE raise an error.

PostgreSQL: a plpgsql function and a BEFORE UPDATE OR DELETE row trigger. SQLite: two BEFORE
triggers with RAISE(ABORT). A correction is a reversal entry, never an edit.
"""

from django.db import migrations

MESSAGE = "积分流水只能追加，不能修改或删除（请使用冲正记录）"

POSTGRES_CREATE = f"""
CREATE OR REPLACE FUNCTION points_ledger_reject_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER points_ledgerentry_append_only
    BEFORE UPDATE OR DELETE ON points_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION points_ledger_reject_change();
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS points_ledgerentry_append_only ON points_ledgerentry;
DROP FUNCTION IF EXISTS points_ledger_reject_change();
"""

SQLITE_CREATE = [
    f"""CREATE TRIGGER points_ledgerentry_no_update BEFORE UPDATE ON points_ledgerentry
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
    f"""CREATE TRIGGER points_ledgerentry_no_delete BEFORE DELETE ON points_ledgerentry
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS points_ledgerentry_no_update;",
    "DROP TRIGGER IF EXISTS points_ledgerentry_no_delete;",
]


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_CREATE)
    elif vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement)
    else:
        raise RuntimeError(f"No append-only trigger for database vendor {vendor!r}")


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP)
    elif vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("points", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]

"""Backups: a pg_dump of the live database restores into a fresh one with every ledger entry and
every request (the procedure in docs/operations.md)."""

import os
import shutil
import subprocess
import uuid

import psycopg2
import pytest
from django.db import connection

from points.models import LedgerEntry
from tests.governance.factories import report, resolved
from tests.points.factories import fund

pytestmark = [pytest.mark.django_db(transaction=True)]


def _require_postgres():
    if connection.vendor == "postgresql" and shutil.which("pg_dump"):
        return
    if os.environ.get("CI"):
        pytest.fail("CI runs on PostgreSQL: the backup test must run there")
    pytest.skip("the backup procedure is for PostgreSQL (set DATABASE_URL)")


def _conn_args(name: str) -> list[str]:
    db = connection.settings_dict
    return [
        "-h",
        db.get("HOST") or "127.0.0.1",
        "-p",
        str(db.get("PORT") or 5432),
        "-U",
        db.get("USER") or "postgres",
        name,
    ]


def test_dump_restores_every_ledger_entry_and_request(
    tmp_path, representative, village_clerk, ledger_flush_allowed
):
    _require_postgres()
    for household in representative.households.all()[:3]:
        fund(household, village_clerk, 20)
    report(representative, title="路灯不亮")
    resolved(representative, village_clerk, title="水渠堵塞")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, account_id, points, balance_after FROM points_ledgerentry ORDER BY id"
        )
        ledger = cursor.fetchall()
        cursor.execute("SELECT id, status, title FROM governance_request ORDER BY id")
        requests = cursor.fetchall()
        cursor.execute("SELECT count(*) FROM governance_requestevent")
        (events,) = cursor.fetchone()
    assert len(ledger) == LedgerEntry.objects.count() >= 3 and len(requests) == 2

    source = connection.settings_dict["NAME"]
    restored = f"restore_{uuid.uuid4().hex[:8]}"
    dump = tmp_path / "backup.dump"
    subprocess.run(
        ["pg_dump", "-Fc", "-f", str(dump), *_conn_args(source)], check=True, timeout=120
    )
    subprocess.run(["createdb", *_conn_args(restored)], check=True, timeout=60)
    try:
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "-d",
                *_conn_args(restored)[-1:],
                *_conn_args(restored)[:-1],
                str(dump),
            ],
            check=True,
            timeout=120,
        )
        db = connection.settings_dict
        with (
            psycopg2.connect(
                dbname=restored,
                host=db.get("HOST") or "127.0.0.1",
                port=db.get("PORT") or 5432,
                user=db.get("USER") or "postgres",
            ) as copy,
            copy.cursor() as cursor,
        ):
            cursor.execute(
                "SELECT id, account_id, points, balance_after FROM points_ledgerentry ORDER BY id"
            )
            assert cursor.fetchall() == ledger
            cursor.execute("SELECT id, status, title FROM governance_request ORDER BY id")
            assert cursor.fetchall() == requests
            cursor.execute("SELECT count(*) FROM governance_requestevent")
            assert cursor.fetchone()[0] == events
            # The append-only guarantee comes back with the data.
            with pytest.raises(psycopg2.Error):
                cursor.execute("UPDATE points_ledgerentry SET points = points + 1")
        copy.close()
    finally:
        subprocess.run(["dropdb", "--if-exists", *_conn_args(restored)], check=False, timeout=60)

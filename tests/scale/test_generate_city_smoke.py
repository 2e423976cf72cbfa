"""A 10k-household city generated on PostgreSQL: the rows are right, not fast.

The generator writes with COPY, so it needs PostgreSQL: the test is skipped on the local SQLite
default and FAILS in CI (``CI`` set) when the database is not PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from governance import analysis, bench_sql, jobs
from governance.citygen import (
    HOUSEHOLDS_PER_GRID,
    MEETINGS_PER_VILLAGE,
    generate_city,
    reset_database,
)
from grids.validators import id_check_char
from points.lists import previous_quarter
from points.services import ledger_consistency_check

VILLAGES = 20
HOUSEHOLDS = 10_000
MONTHS = 3


def require_postgresql() -> None:
    if connection.vendor == "postgresql":
        return
    if os.environ.get("CI"):
        pytest.fail("CI must run the scale smoke test on PostgreSQL: set DATABASE_URL")
    pytest.skip("generate_city writes with PostgreSQL COPY: set DATABASE_URL to run it")


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker):
    """Generated once for the module (committed), truncated at the end."""
    with django_db_blocker.unblock():
        require_postgresql()
        result = generate_city(villages=VILLAGES, households=HOUSEHOLDS, months=MONTHS, seed=7)
        try:
            yield result
        finally:
            with connection.cursor() as cursor:
                reset_database(cursor)


def scalar(sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


def weeks_in(result) -> float:
    start = result.months[0]
    end = analysis.next_month(result.months[-1])
    return (end - start).days / 7


@pytest.mark.django_db
def test_the_city_has_the_requested_territory_and_people(city):
    assert city.counts["grids_village"] == VILLAGES
    assert city.counts["grids_township"] == 1
    assert scalar("SELECT count(*) FROM grids_household") == HOUSEHOLDS
    grids = scalar("SELECT count(*) FROM grids_grid")
    assert grids == VILLAGES * -(-HOUSEHOLDS // VILLAGES // HOUSEHOLDS_PER_GRID)
    residents = scalar("SELECT count(*) FROM grids_resident")
    assert 2.8 * HOUSEHOLDS <= residents <= 3.3 * HOUSEHOLDS
    # Every household has a head among its residents and exactly one representative.
    assert (
        scalar(
            "SELECT count(*) FROM grids_household h JOIN grids_resident r ON r.id = h.head_id "
            "WHERE r.household_id = h.id AND h.representative_id IS NOT NULL"
        )
        == HOUSEHOLDS
    )
    # One representative per 5–15 households, each with a login scoped to their grid.
    sizes = scalar(
        "SELECT array_agg(n) FROM (SELECT count(*) AS n FROM grids_household "
        "GROUP BY representative_id) s"
    )
    assert min(sizes) >= 5 and max(sizes) <= 15
    assert scalar(
        "SELECT count(*) FROM grids_representative r JOIN grids_scope s ON s.user_id = r.user_id "
        "WHERE s.role = 'representative' AND s.grid_id = r.grid_id"
    ) == len(sizes)


@pytest.mark.django_db
def test_every_id_number_is_valid_and_unique(city):
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, gender FROM grids_resident")
        rows = cursor.fetchall()
    numbers = [number for number, _gender in rows]
    assert len(set(numbers)) == len(numbers)
    for number, gender in rows:
        assert len(number) == 18 and number[:17].isdigit()
        assert number[17] == id_check_char(number[:17]), number
        assert int(number[16]) % 2 == (1 if gender == "M" else 0), number


@pytest.mark.django_db
def test_activity_happens_at_the_requested_rates(city):
    household_months = HOUSEHOLDS * MONTHS
    visits = scalar("SELECT count(*) FROM grids_visit")
    assert 0.8 * HOUSEHOLDS * weeks_in(city) <= visits <= HOUSEHOLDS * weeks_in(city)
    requests = scalar("SELECT count(*) FROM governance_request")
    assert 0.006 * household_months <= requests <= 0.014 * household_months
    entries = scalar("SELECT count(*) FROM points_ledgerentry")
    assert 2.2 * household_months <= entries <= 2.8 * household_months
    assert scalar("SELECT count(*) FROM deliberation_meeting") == (
        VILLAGES * MONTHS * MEETINGS_PER_VILLAGE
    )
    assert (
        scalar(
            "SELECT min(n) FROM (SELECT count(*) AS n FROM deliberation_attendance "
            "GROUP BY meeting_id) s"
        )
        >= 15
    )
    assert scalar("SELECT count(*) FROM points_redemption") > 0
    # Everything happened before the first day of the current month.
    horizon = dt.datetime.combine(
        timezone.localdate().replace(day=1), dt.time(0), tzinfo=timezone.get_current_timezone()
    )
    assert scalar("SELECT max(visited_at) FROM grids_visit") < horizon
    assert scalar("SELECT max(at) FROM governance_requestevent") < horizon


@pytest.mark.django_db
def test_most_requests_are_resolved_in_the_grid(city):
    resolved, in_grid = 0, 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE resolved_level = 'grid' AND NOT escalated) "
            "FROM governance_request WHERE resolved_at IS NOT NULL"
        )
        resolved, in_grid = cursor.fetchone()
    assert resolved > 0
    assert 0.55 <= in_grid / resolved <= 0.85


@pytest.mark.django_db
def test_request_rows_are_the_cache_of_their_events(city):
    # The first event reports, each event starts where the previous ended, the last is the row.
    assert (
        scalar(
            """
        SELECT count(*) FROM (
            SELECT q.id, q.status,
                   (array_agg(e.action ORDER BY e.at, e.id))[1] AS first_action,
                   (array_agg(e.to_status ORDER BY e.at DESC, e.id DESC))[1] AS last_status
            FROM governance_request q JOIN governance_requestevent e ON e.request_id = q.id
            GROUP BY q.id, q.status
        ) s WHERE first_action <> 'report' OR last_status <> status
        """
        )
        == 0
    )
    assert (
        scalar(
            """
        SELECT count(*) FROM (
            SELECT from_status, lag(to_status, 1, '') OVER (PARTITION BY request_id
                   ORDER BY at, id) AS previous
            FROM governance_requestevent
        ) s WHERE from_status <> previous
        """
        )
        == 0
    )
    # Every return visit is one return_visit or reopen event.
    assert scalar("SELECT count(*) FROM governance_returnvisit") == scalar(
        "SELECT count(*) FROM governance_requestevent WHERE action IN ('return_visit', 'reopen')"
    )


@pytest.mark.django_db
def test_balances_equal_the_sums_of_the_ledger(city):
    assert ledger_consistency_check() == []
    assert (
        scalar(
            """
        SELECT count(*) FROM (
            SELECT balance_after, sum(points) OVER (PARTITION BY account_id ORDER BY id) AS running
            FROM points_ledgerentry
        ) s WHERE balance_after <> running
        """
        )
        == 0
    )
    assert scalar("SELECT count(*) FROM points_account") == HOUSEHOLDS
    # Shop stock = movements, never below zero.
    assert (
        scalar(
            "SELECT count(*) FROM points_product p WHERE p.stock <> (SELECT sum(quantity) FROM "
            "points_stockmovement m WHERE m.product_id = p.id)"
        )
        == 0
    )


@pytest.mark.django_db
def test_monthly_analysis_figures_equal_direct_sql_counts(city):
    month = city.months[-1]
    snapshots = analysis.monthly_analysis_run(month=month)
    assert snapshots == VILLAGES + 1
    assert bench_sql.monthly_mismatches(month) == []
    # And the floor is not trivially empty.
    floor = bench_sql.monthly_floor(month)
    assert sum(f.get("visits", 0) for f in floor.values()) > HOUSEHOLDS * 3
    assert sum(f.get("requests", 0) for f in floor.values()) > 0


@pytest.mark.django_db
def test_the_quarterly_lists_job_runs_and_matches_direct_sql(city):
    quarter = previous_quarter(timezone.localdate())
    assert jobs.run_lists({"quarter": quarter}) == VILLAGES + 1
    assert bench_sql.lists_mismatches(quarter) == []
    assert scalar("SELECT count(*) FROM points_listentry WHERE colour = 'red'") >= VILLAGES * 10


def _table_rows(text: str, header: str) -> list[list[str]]:
    """The rows of every markdown table in ``text`` whose header row starts with ``header``."""
    rows, inside = [], False
    for line in text.splitlines():
        if line.startswith(header):
            inside = True
            continue
        if inside and line.startswith("| ---"):
            continue
        if inside and line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        else:
            inside = False
    return rows


@pytest.mark.django_db
def test_the_benchmark_command_runs_and_its_figures_agree(city, tmp_path):
    """`manage.py bench` (what `make bench` runs) on this city, briefly: every job's figures
    agree with its bare-SQL floor, the import is complete, every page answers without an error.
    Times are not asserted: the targets are read off the real run in docs/benchmarks.md."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    url = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    report = tmp_path / "bench.md"
    command = [sys.executable, "manage.py", "bench", "--runs", "1", "--households", "300"]
    command += ["--users", "4", "--seconds", "2", "--max-requests", "40", "--report", str(report)]
    subprocess.run(  # noqa: S603 (our own command)
        command,
        env={**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-smoke-not-a-secret"},
        cwd=settings.BASE_DIR,
        check=True,
        timeout=900,
    )
    text = report.read_text(encoding="utf-8")
    jobs_rows = _table_rows(text, "| job |")
    assert len(jobs_rows) == 3, text  # first month, steady state, lists
    assert all(row[-1] == "yes" for row in jobs_rows), jobs_rows
    assert "Roster import: 300 households" in text
    pages = _table_rows(text, "| page |")
    assert len(pages) == 15, text  # five pages in each of the three modes
    assert all(row[5] == "0" and int(row[1]) > 0 for row in pages), pages
    targets = _table_rows(text, "| target |")
    assert len(targets) == 3 * 2 + 1 + 3 + 1, targets  # jobs (time, ratio), import, p95s, lists

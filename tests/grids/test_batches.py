"""Groups of villages and the unit transactions of the jobs that read a city's data."""

import pytest
from django.db import connection, transaction

from grids.batches import unit_transaction, village_batches


def test_village_batches_keep_the_run_order_in_groups_of_the_size():
    groups = village_batches(list(range(1, 8)), size=3)
    assert groups[1] == groups[3] == [1, 2, 3]
    assert groups[4] == [4, 5, 6]
    assert groups[7] == [7]


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_unit_transaction_commits_without_waiting_for_the_disk_only_inside_the_unit():
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is a PostgreSQL setting")
    before = _synchronous_commit()
    with unit_transaction():
        assert connection.in_atomic_block
        assert _synchronous_commit() == "off"
    # SET LOCAL ends with the unit: the run's own commits stay synchronous
    assert _synchronous_commit() == before == "on"


@pytest.mark.django_db
def test_unit_transaction_inside_a_callers_transaction_changes_nothing():
    assert connection.in_atomic_block  # the test's transaction
    sid = transaction.savepoint()
    with unit_transaction():
        if connection.vendor == "postgresql":
            assert _synchronous_commit() == "on"
    transaction.savepoint_rollback(sid)

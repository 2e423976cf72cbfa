"""Villages taken in groups by the jobs that read a city's data."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from django.db import connection, transaction

V = TypeVar("V")

# A group's reads replace per-village queries; a few hundred villages (~100,000 households)
# keep each read to a second or two and its rows in memory to a few tens of megabytes.
BATCH_VILLAGES = 200


def village_batches(villages: Sequence[V], size: int = BATCH_VILLAGES) -> dict[int, list[V]]:
    """{village id: its group}: consecutive villages in the run's order, at most ``size`` each.

    Villages are model instances or ids; a run computes a group's figures when the first of its
    villages comes up and stores the villages one by one.
    """
    groups: dict[int, list[V]] = {}
    for start in range(0, len(villages), size):
        group = list(villages[start : start + size])
        for village in group:
            groups[getattr(village, "pk", village)] = group
    return groups


@contextmanager
def unit_transaction() -> Iterator[None]:
    """One unit of a recomputable job (a village's snapshot or lists) in its own transaction,
    committed without waiting for the disk (PostgreSQL's ``synchronous_commit = off``).

    A crash can lose the last few such commits but never leaves one half-written, and WAL is
    written in order: the run is marked done afterwards by an ordinary commit, which flushes
    every unit before it. So a run that shows done has all its units on disk, and one that was
    cut short is rerun in full (the units are idempotent). The fsync per village was most of a
    city's publication time; inside a caller's transaction nothing changes.
    """
    if transaction.get_connection().in_atomic_block:
        yield
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield

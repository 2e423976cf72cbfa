"""Villages taken in groups by the jobs that read a city's data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

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

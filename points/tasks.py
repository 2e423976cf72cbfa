"""Celery tasks: one line each, calling the services (the commands run the same synchronously)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from . import services

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def grant_base_points(year: int | None = None, points: int = 100) -> int:
    """Yearly 基础分 (idempotent: a second run for the same year grants nothing)."""
    return services.base_points_grant(year=year or timezone.localdate().year, points=points)


@shared_task(acks_late=True)
def check_ledger() -> list[int]:
    """Report accounts whose cached balance differs from the sum of their entries."""
    mismatches = services.ledger_consistency_check()
    for m in mismatches:
        logger.error(
            "积分账户余额与流水合计不一致: account=%s household=%s cached=%s actual=%s",
            m.account_id,
            m.household_number,
            m.cached,
            m.actual,
        )
    return [m.account_id for m in mismatches]

"""Celery tasks: one line each, calling the services (the command runs the same synchronously)."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def close_expired_household_ballots() -> list[int]:
    """Close household ballots whose voting period has ended (idempotent)."""
    return services.household_ballots_close_expired()

"""The real-worker harness itself: a worker starts against the test database and answers."""

import pytest

from tests.worker import celery_worker, require_broker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_real_worker_starts_and_answers_ping():
    require_broker()
    from governance.celery import app

    with celery_worker() as worker:
        replies = app.control.ping(timeout=2.0)
        assert replies, worker.log_path.read_text()

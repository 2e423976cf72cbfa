"""A real Celery worker for the tests that must go through the broker.

The worker is a separate process running this project's code against the test database that
pytest-django created, so tests that use it need committed data (``transactional_db``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def broker_available() -> bool:
    return bool(os.environ.get("REDIS_URL")) and connection.vendor == "postgresql"


def require_broker() -> None:
    """Skip locally on the embedded default; in CI (CI=true) a missing broker is a failure."""
    import pytest

    if broker_available():
        return
    if os.environ.get("CI"):
        pytest.fail("CI must run the worker tests: set DATABASE_URL (PostgreSQL) and REDIS_URL")
    pytest.skip("needs REDIS_URL and PostgreSQL (CI sets both in .ci/run)")


def _test_database_url() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    auth = f"{user}:{db['PASSWORD']}@" if db.get("PASSWORD") else f"{user}@"
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{connection.settings_dict['NAME']}"


def _environment(settings_module: str, extra: dict | None) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DATABASE_URL": _test_database_url(),
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DB_CONN_MAX_AGE": "0",
        **(extra or {}),
    }


@contextmanager
def _celery(arguments: list[str], *, env: dict, log_name: str):
    """Run ``celery -A governance <arguments>`` in its own process group; stop it at the end."""
    log_path = ROOT / "var" / f"celery-{log_name}-{os.getpid()}.log"
    log_path.parent.mkdir(exist_ok=True)
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "governance", *arguments],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    process.log_path = log_path
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.close()


@contextmanager
def celery_worker(
    *, concurrency: int = 1, queues: str = "celery", env: dict | None = None, name: str = "w"
):
    """Start ``celery worker`` against the test database; yield the Popen; stop it at the end.

    ``env`` adds environment variables (e.g. the JOBS_* knobs) for this worker only.
    """
    arguments = [
        "worker",
        "--loglevel=INFO",
        f"--concurrency={concurrency}",
        "--pool=prefork",
        "-Q",
        queues,
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
        "-n",
        f"test-{os.getpid()}-{name}@%h",
    ]
    environment = _environment("tests.settings", env)
    with _celery(arguments, env=environment, log_name=f"worker-{name}") as process:
        _wait_until_ready(process)
        yield process


@contextmanager
def celery_beat(*, entries: list[str], every: float = 1.0, name: str = "beat"):
    """Start a real ``celery beat`` that fires the named entries of CELERY_BEAT_SCHEDULE every
    ``every`` seconds instead of on their crontab (tests/ops/beat_settings.py). Each beat keeps its
    own schedule file, as two beats started by mistake on two machines would."""
    schedule = ROOT / "var" / f"celerybeat-{os.getpid()}-{name}"
    for leftover in schedule.parent.glob(f"{schedule.name}*"):
        leftover.unlink()
    environment = _environment(
        "tests.ops.beat_settings",
        {"TEST_BEAT_ENTRIES": ",".join(entries), "TEST_BEAT_EVERY": str(every)},
    )
    arguments = ["beat", "--loglevel=INFO", "-s", str(schedule), "--max-interval=1"]
    with _celery(arguments, env=environment, log_name=name) as process:
        yield process
    for leftover in schedule.parent.glob(f"{schedule.name}*"):
        leftover.unlink()


def _wait_until_ready(process: subprocess.Popen, timeout: float = 60) -> None:
    from governance.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.log_path.read_text()
            raise RuntimeError(f"celery worker exited early:\n{output[-4000:]}")
        replies = app.control.ping(timeout=1.0)
        if replies:
            return
    raise RuntimeError("celery worker did not answer a ping within 60 s")

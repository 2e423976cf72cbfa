"""Settings for a test beat: the real schedule's named entries, fired every few seconds.

TEST_BEAT_ENTRIES names the CELERY_BEAT_SCHEDULE entries to keep (comma-separated);
TEST_BEAT_EVERY is their interval in seconds. Used by tests.worker.celery_beat only.
"""

import os

from tests.settings import *  # noqa: F403
from tests.settings import CELERY_BEAT_SCHEDULE as _REAL_SCHEDULE

CELERY_BEAT_SCHEDULE = {
    name: {**_REAL_SCHEDULE[name], "schedule": float(os.environ.get("TEST_BEAT_EVERY", "1"))}
    for name in os.environ["TEST_BEAT_ENTRIES"].split(",")
}
# A beat only sends: the worker runs what it sends (tests.settings runs tasks inline otherwise).
CELERY_TASK_ALWAYS_EAGER = False

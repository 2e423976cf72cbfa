"""Test settings: the real settings module with a throwaway key; DATABASE_URL still decides the DB."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")

from governance.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
MEDIA_ROOT = VAR_DIR / "test-media"  # noqa: F405

# Tasks run inline in tests; the tests that need a real worker start one and say so.
CELERY_TASK_ALWAYS_EAGER = True

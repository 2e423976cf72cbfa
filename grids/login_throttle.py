"""Failed-login throttling per account and per address, kept in the shared cache.

Five wrong passwords for one account, or twenty from one address, within the window lock that
account (or address) out for the window. The window restarts with each failure.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache

from . import request_meta

WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"login-fail:{kind}:{digest}"


def client_address(request) -> str:
    return request_meta.client_address(request)


def is_locked(*, login: str, address: str) -> bool:
    return (
        cache.get(_key("account", login), 0) >= MAX_FAILURES_PER_ACCOUNT
        or cache.get(_key("address", address), 0) >= MAX_FAILURES_PER_ADDRESS
    )


def record_failure(*, login: str, address: str) -> None:
    for key in (_key("account", login), _key("address", address)):
        cache.add(key, 0, WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, WINDOW_SECONDS)
        cache.touch(key, WINDOW_SECONDS)


def record_success(*, login: str) -> None:
    cache.delete(_key("account", login))

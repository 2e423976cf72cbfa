"""A Redis cache that degrades to "no cache" when Redis is down instead of failing the request.

The cache holds nothing that must survive (login throttles, cached public pages); losing it for
the length of an outage is better than refusing visits and redemptions.
"""

import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


class ResilientRedisCache(RedisCache):
    def _quietly(self, method: str, default, *args, **kwargs):
        try:
            return getattr(super(), method)(*args, **kwargs)
        except DOWN as exc:
            logger.warning("cache unavailable (%s): %s skipped", exc.__class__.__name__, method)
            return default

    def get(self, key, default=None, version=None):
        return self._quietly("get", default, key, default, version)

    def get_many(self, keys, version=None):
        return self._quietly("get_many", {}, keys, version)

    def set(self, key, value, timeout=None, version=None):
        return self._quietly("set", None, key, value, timeout, version)

    def add(self, key, value, timeout=None, version=None):
        return self._quietly("add", False, key, value, timeout, version)

    def touch(self, key, timeout=None, version=None):
        return self._quietly("touch", False, key, timeout, version)

    def delete(self, key, version=None):
        return self._quietly("delete", False, key, version)

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except DOWN:
            logger.warning("cache unavailable: incr skipped")
            return delta

    def set_many(self, data, timeout=None, version=None):
        return self._quietly("set_many", list(data), data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._quietly("delete_many", None, keys, version)

    def has_key(self, key, version=None):
        return self._quietly("has_key", False, key, version)

    def clear(self):
        return self._quietly("clear", False)

"""Django's Redis cache, except that Redis being away is a miss, not an error: pages keep working without it.

Nothing this project caches is the only copy of anything (the sending lanes' marks, throttle counts), so a
read while Redis is away finds nothing and a write is dropped, each with a warning in the log.
"""

import functools
import logging

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# What each call answers while Redis is away (incr: as if the key had just been made).
_AWAY = {
    "add": lambda *a: False,
    "get": lambda key, default: default,
    "set": lambda *a: None,
    "touch": lambda *a: False,
    "delete": lambda *a: False,
    "get_many": lambda *a: {},
    "has_key": lambda *a: False,
    "incr": lambda key, delta: delta,
    "set_many": lambda *a: [],
    "delete_many": lambda *a: None,
    "clear": lambda *a: False,
}


def _soft(name: str):
    method = getattr(RedisCacheClient, name)

    @functools.wraps(method)
    def call(self, *args):
        try:
            return method(self, *args)
        except (RedisConnectionError, RedisTimeoutError) as error:
            logger.warning("cache away (%s): %s", name, error)
            return _AWAY[name](*args)

    return call


SoftRedisCacheClient = type("SoftRedisCacheClient", (RedisCacheClient,), {name: _soft(name) for name in _AWAY})


class SoftRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SoftRedisCacheClient

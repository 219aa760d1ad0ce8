"""Counting requests per caller in fixed windows on the default cache (Redis in production).

A window is a counter that expires with it, so every web node sees the same count and a key costs one
INCR per request. Its edge lets a caller spend two windows' worth in a moment across it; that is the price
of one counter instead of a log of times per caller, and still bounds the rate over any longer stretch.

The cache failing must not take the API or the webhooks down with it: counting then stops (fails open)
with a warning in the log, and requests pass as if unlimited until it is back.
"""

import hashlib
import logging
import math
import re
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.translation import gettext_lazy as _
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86400}
UNITS["day"] = UNITS["d"]
_PLAIN_KEY = re.compile(r"[\w.:-]{1,64}")
_RATE = re.compile(r"\s*(\d{1,9})\s*/\s*(\d{0,6})\s*([a-z]+?)s?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds}s"


def parse_rate(text: str) -> Rate | None:
    """ "600/min", "10/s", "5000/hour", "100/5min", "20000/day"; empty means no limit. ValueError otherwise."""
    if not text or not text.strip():
        return None
    match = _RATE.fullmatch(text)
    if not match or match.group(3).lower() not in UNITS:
        raise ValueError(f"not a rate: {text!r} (write it as 600/min, 10/s, 5000/hour or 20000/day)")
    count, multiple, unit = int(match.group(1)), int(match.group(2) or 1), UNITS[match.group(3).lower()]
    if count < 1 or multiple < 1:
        raise ValueError(f"not a rate: {text!r} (at least one request in at least one second)")
    return Rate(count=count, seconds=multiple * unit)


def validate_rate(value: str) -> None:
    """For a form or model field holding a rate."""
    try:
        parse_rate(value)
    except ValueError as e:
        raise ValidationError(
            _("Write a rate as requests per period: 600/min, 10/s, 5000/hour or 20000/day."), code="rate"
        ) from e


def setting_rate(value: str, *, name: str) -> Rate | None:
    """A rate from a setting; a typo there stops the app at once rather than leaving it unlimited."""
    try:
        return parse_rate(value)
    except ValueError as e:
        raise ImproperlyConfigured(f"{name}: {e}") from e


def rate_hit(*, scope: str, key: str, rate: Rate | None, now: float | None = None) -> int | None:
    """Count one request of `key` in `scope`: None when it is within `rate`, else the seconds until the
    window ends (for Retry-After). With no rate, or the cache unreachable, nothing is counted: None."""
    if rate is None:
        return None
    now = time.time() if now is None else now
    window = int(now // rate.seconds)
    if not _PLAIN_KEY.fullmatch(key):  # a cache key must stay short and printable, whatever a proxy wrote
        key = hashlib.sha256(key.encode()).hexdigest()[:32]
    counter = f"ratelimit:{scope}:{key}:{rate.seconds}:{window}"
    try:
        # add() is a no-op if the counter exists; incr() is atomic, so two web nodes never both see "1".
        cache.add(counter, 0, timeout=rate.seconds + 1)
        try:
            count = cache.incr(counter)
        except ValueError:  # the counter expired between the two calls: a new window, this is its first
            cache.set(counter, 1, timeout=rate.seconds + 1)
            count = 1
    except (RedisError, OSError) as e:
        logger.warning("Rate limit %s not counted (cache unreachable: %s); request let through", scope, e)
        return None
    if count <= rate.count:
        return None
    return max(1, math.ceil((window + 1) * rate.seconds - now))

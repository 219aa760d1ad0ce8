"""The signed links a message carries: unsubscribe, open pixel, click redirect, satisfaction score.

Each token is signed with SECRET_KEY and a salt per purpose, so a token for one purpose is refused by another,
a click token names the only URL it may redirect to (one that was in the template), and nobody can forge a
link for another member. Tokens do not expire: an unsubscribe link must work years later (RFC 8058).
"""

from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.urls import get_script_prefix, get_urlconf, reverse

UNSUBSCRIBE = "marketing.unsubscribe"
OPEN = "marketing.open"
CLICK = "marketing.click"


def _absolute(path: str) -> str:
    return settings.CRM_BASE_URL.rstrip("/") + path


_SLOT = "crm-token-slot"


@lru_cache(maxsize=64)
def _around_token(name: str, base_url: str, script_prefix: str, urlconf: object) -> tuple[str, str]:
    before, after = (base_url.rstrip("/") + reverse(name, args=[_SLOT], urlconf=urlconf)).split(_SLOT)
    return before, after


def _url(name: str, token: str) -> str:
    """The absolute URL of `name` for `token`: the same as reversing it, reversed once per name. A campaign
    message carries three of these, and `reverse` costs as much as signing the token; a signed token is
    URL-safe (base64url, ":" and "."), so the path around it is the same for every token."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    before, after = _around_token(name, settings.CRM_BASE_URL, get_script_prefix(), urlconf)
    return before + token + after


def _token(salt: str, value: object) -> str:
    return signing.dumps(value, salt=salt, compress=True)


def read(token: str, *, salt: str) -> object | None:
    """The value a token carries, or None when it was not signed by us for this purpose."""
    try:
        return signing.loads(token, salt=salt)
    except signing.BadSignature:
        return None


def unsubscribe_url(message_id: int) -> str:
    return _url("marketing:unsubscribe", _token(UNSUBSCRIBE, message_id))


def open_url(message_id: int) -> str:
    return _url("marketing:opened", _token(OPEN, message_id))


def click_url(message_id: int, url: str) -> str:
    return _url("marketing:clicked", _token(CLICK, [message_id, url]))

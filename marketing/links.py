"""The signed links a message carries: unsubscribe, open pixel, click redirect, satisfaction score.

Each token is signed with SECRET_KEY and a salt per purpose, so a token for one purpose is refused by another,
a click token names the only URL it may redirect to (one that was in the template), and nobody can forge a
link for another member. Tokens do not expire: an unsubscribe link must work years later (RFC 8058).
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

UNSUBSCRIBE = "marketing.unsubscribe"
OPEN = "marketing.open"
CLICK = "marketing.click"


def _absolute(path: str) -> str:
    return settings.CRM_BASE_URL.rstrip("/") + path


def _token(salt: str, value: object) -> str:
    return signing.dumps(value, salt=salt, compress=True)


def read(token: str, *, salt: str) -> object | None:
    """The value a token carries, or None when it was not signed by us for this purpose."""
    try:
        return signing.loads(token, salt=salt)
    except signing.BadSignature:
        return None


def unsubscribe_url(message_id: int) -> str:
    return _absolute(reverse("marketing:unsubscribe", args=[_token(UNSUBSCRIBE, message_id)]))


def open_url(message_id: int) -> str:
    return _absolute(reverse("marketing:opened", args=[_token(OPEN, message_id)]))


def click_url(message_id: int, url: str) -> str:
    return _absolute(reverse("marketing:clicked", args=[_token(CLICK, [message_id, url])]))

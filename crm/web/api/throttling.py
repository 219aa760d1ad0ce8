"""How often an integration may call: per token, and per address for calls without a valid token.

Counted by crm.lib.ratelimit on the default cache, so every web node shares one count. Over the rate the
answer is 429 with Retry-After and the API's usual {"detail": ...}; with the cache down nothing is counted.
"""

from django.conf import settings
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from crm.lib.addresses import client_address
from crm.lib.ratelimit import rate_hit, setting_rate
from crm.web.api.models import ApiClient


class TokenRateThrottle(BaseThrottle):
    """Per token: its own rate if it has one, else API_RATE, or the setting a view names in
    `rate_setting` (the mention webhook's WEBHOOK_RATE, counted apart from the token's other calls)."""

    def allow_request(self, request: Request, view) -> bool:
        self.wait_seconds = None
        client = request.auth
        if not isinstance(client, ApiClient):
            return True  # no token (the signed-in schema reader): counted per address in the authentication
        name = getattr(view, "rate_setting", "API_RATE")
        rate = setting_rate(client.rate_limit or getattr(settings, name), name=name)
        # The token's hash, not its id: ids come back after a database reset, a new token never repeats one.
        self.wait_seconds = rate_hit(scope=f"api-{name.lower()}", key=client.token_hash[:32], rate=rate)
        return self.wait_seconds is None

    def wait(self) -> int | None:
        return self.wait_seconds


def throttle_anonymous(request: Request) -> None:
    """Count a call without a valid token against its address (token guessing); 429 over API_RATE_ANONYMOUS."""
    rate = setting_rate(settings.API_RATE_ANONYMOUS, name="API_RATE_ANONYMOUS")
    wait = rate_hit(scope="api-anonymous", key=client_address(request), rate=rate)
    if wait is not None:
        raise exceptions.Throttled(wait)

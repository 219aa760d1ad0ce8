"""The edge of every webhook that is not part of the API (SMS replies, e-mail providers' events).

Before the view reads anything: a source (the caller's address; the gateways sign with a shared secret or
basic auth, not a token of their own) over WEBHOOK_RATE is a 429 with Retry-After, and a body over
WEBHOOK_MAX_BODY_BYTES a 413, both in JSON. The size is known from Content-Length: under WSGI a request
body is read no further than its Content-Length says, so a body longer than declared is cut there, never
read whole. The API's own webhook is an API view, limited like the rest of the API (crm.web.api).
"""

import functools
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, URLResolver
from django.utils.translation import gettext as _

from crm.lib.addresses import client_address
from crm.lib.ratelimit import rate_hit, setting_rate


def declared_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def webhook_refusal(request: HttpRequest) -> HttpResponse | None:
    """The 429 or 413 this request gets at the webhook edge, or None to let it through."""
    rate = setting_rate(settings.WEBHOOK_RATE, name="WEBHOOK_RATE")
    wait = rate_hit(scope="webhook", key=client_address(request), rate=rate)
    if wait is not None:
        message = _("Too many requests; try again in %(seconds)s seconds.") % {"seconds": wait}
        response = JsonResponse({"detail": message}, status=429)
        response["Retry-After"] = str(wait)
        return response
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    if declared_length(request) > limit:
        message = _("The request body may be at most %(limit)s bytes.") % {"limit": limit}
        return JsonResponse({"detail": message}, status=413)
    return None


def webhook(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Put a webhook view behind the edge checks (keeps its csrf_exempt and login_not_required marks)."""

    @functools.wraps(view)
    def edge(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return webhook_refusal(request) or view(request, *args, **kwargs)

    return edge


def webhook_patterns(patterns: list[URLPattern | URLResolver]) -> list[URLPattern]:
    """A third-party app's webhook URLs (anymail's), each behind the edge checks."""
    wrapped = []
    for pattern in patterns:
        if not isinstance(pattern, URLPattern):
            raise TypeError(f"{pattern!r}: only plain URL patterns can be wrapped")
        wrapped.append(URLPattern(pattern.pattern, webhook(pattern.callback), pattern.default_args, pattern.name))
    return wrapped

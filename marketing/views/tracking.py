"""Public endpoints a message's links lead to: unsubscribe, open pixel, click redirect.

No login: the member has none. What authorises each request is the signed token in its URL (marketing/links.py),
which only we can make and which names one message. A token that does not verify is a 404 and writes nothing.
"""

import base64
from urllib.parse import urlsplit

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from customers.models import ConsentChannel
from marketing import channels, links
from marketing.models import Message, MessageStatus
from marketing.rendering import member_language
from marketing.services.tracking import message_event_record, message_unsubscribe

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")  # 1x1 transparent GIF
_MAX_ID = 2**63


def _message_id(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < _MAX_ID:
        return value
    return None


def _message(token: str, *, salt: str) -> Message:
    """The message a token names, or 404 (a token not signed by us for this purpose, or a message since gone)."""
    message_id = _message_id(links.read(token, salt=salt))
    if message_id is None:
        raise Http404
    message = Message.objects.select_related("campaign", "customer").filter(pk=message_id).first()
    if message is None:
        raise Http404
    return message


def _safe_url(url: str) -> bool:
    if any(ord(c) < 32 or ord(c) == 127 for c in url):  # a line break would split the Location header
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


# CSRF exemption, for this view only: RFC 8058 one-click unsubscribe is a POST the member's mail provider makes
# from its own servers (body "List-Unsubscribe=One-Click"), with no cookie and no CSRF token. The exemption adds
# no risk: CSRF abuses the ambient authority of a visitor's session cookie, and this view reads none; its only
# authority is the signed token in the URL, which a forging site cannot know.
@csrf_exempt
@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a confirmation page with a button and changes nothing (mail scanners follow links); POST,
    from that button or a provider's one-click, withdraws the member's consent for the message's channel."""
    message = _message(token, salt=links.UNSUBSCRIBE)
    customer = message.customer
    channel = message.campaign.channel
    if request.method == "POST":
        message_unsubscribe(message=message)
        customer.refresh_from_db()
    consent_field = channels.get(channel).consent_field
    language = message.language or member_language(customer)
    with translation.override(language):
        response = render(
            request,
            "marketing/unsubscribe.html",
            {
                "done": not getattr(customer, consent_field),
                "sms": channel == ConsentChannel.SMS,
                "campaign": message.campaign,
            },
        )
    response["X-Robots-Tag"] = "noindex"
    response["Content-Language"] = language
    return response


@login_not_required
@require_safe
def opened_view(request: HttpRequest, token: str) -> HttpResponse:
    """The open pixel: a 1x1 GIF, and the message marked opened (a HEAD from a scanner records nothing)."""
    message = _message(token, salt=links.OPEN)
    if request.method == "GET":
        message_event_record(message=message, event=MessageStatus.OPENED)
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store, max-age=0"
    return response


@login_not_required
@require_safe
def clicked_view(request: HttpRequest, token: str) -> HttpResponse:
    """A link in a message: on to the URL the token names (one that was in the template, signed with the message's
    id), and the message marked clicked. Only http(s) URLs: a signed "javascript:" link is refused all the same."""
    value = links.read(token, salt=links.CLICK)
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], str)):
        raise Http404
    message_id, url = _message_id(value[0]), value[1]
    if message_id is None or not _safe_url(url):
        raise Http404
    message = Message.objects.filter(pk=message_id).first()
    if message is not None and request.method == "GET":
        message_event_record(message=message, event=MessageStatus.CLICKED)
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "no-store, max-age=0"
    return response

"""POST /marketing/sms/inbound/: replies to our SMS, forwarded by the SMS gateway.

Authenticated by a shared secret the gateway sends in the X-Webhook-Secret header (CRM_SMS_INBOUND_SECRET;
empty turns the webhook off): gateways can all be set to send a fixed header, few can sign a body the same way.
The body is JSON or a form, with the sender's number and the text in the fields CRM_SMS_INBOUND_FROM_FIELD and
CRM_SMS_INBOUND_TEXT_FIELD. A stop word from a member's mobile withdraws their SMS consent; anything else, an
unknown number or a malformed body answers 200 and changes nothing, so the gateway does not keep retrying it.
"""

import json
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from crm.lib.phone import normalize_phone
from crm.lib.webhooks import webhook
from marketing.services.tracking import sms_reply_receive

logger = logging.getLogger(__name__)
MAX_TEXT = 1000


def _fields(request: HttpRequest) -> tuple[str, str]:
    """(sender, text) from a JSON or form body; ("", "") when it holds neither as text."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body)
        except ValueError:
            return "", ""
        if not isinstance(data, dict):
            return "", ""
        sender, text = data.get(settings.CRM_SMS_INBOUND_FROM_FIELD), data.get(settings.CRM_SMS_INBOUND_TEXT_FIELD)
    else:
        sender = request.POST.get(settings.CRM_SMS_INBOUND_FROM_FIELD)
        text = request.POST.get(settings.CRM_SMS_INBOUND_TEXT_FIELD)
    if not isinstance(sender, str) or not isinstance(text, str):
        return "", ""
    return sender, text


# Exempt from CSRF: the caller is the gateway's server (no browser, no cookie); the shared secret authenticates it.
@csrf_exempt
@login_not_required
@webhook
@require_POST
def sms_inbound_view(request: HttpRequest) -> JsonResponse:
    secret = settings.CRM_SMS_INBOUND_SECRET
    if not secret:
        raise Http404
    if not constant_time_compare(request.headers.get("X-Webhook-Secret", ""), secret):
        return JsonResponse({"detail": "Missing or wrong X-Webhook-Secret header."}, status=403)
    sender, text = _fields(request)
    try:
        mobile = normalize_phone(sender[:40])
    except ValidationError:
        mobile = ""
    if "\x00" in text:
        text = ""
    withdrawn = sms_reply_receive(mobile=mobile, text=text[:MAX_TEXT])
    if withdrawn:
        logger.info("SMS consent withdrawn by a reply")
    return JsonResponse({"ok": True, "unsubscribed": withdrawn})

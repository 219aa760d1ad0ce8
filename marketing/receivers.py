"""E-mail providers' tracking events (django-anymail's `tracking` signal) into the message rows.

Anymail turns each provider's webhook (Mailgun, Postmark, SES, SendGrid...) into one normalized event; the
message is found by the provider's id recorded when it was sent (Message.provider_id: the ESP's message id, or
the SMTP Message-ID). Events for messages we do not know (sent by another system on the same account) are ignored.
"""

import logging

from anymail.signals import AnymailTrackingEvent, EventType
from anymail.utils import get_anymail_setting

from marketing.models import Message, MessageStatus
from marketing.services.tracking import message_complaint_record, message_event_record, message_unsubscribe

logger = logging.getLogger(__name__)

EVENTS = {
    EventType.DELIVERED: MessageStatus.DELIVERED,
    EventType.OPENED: MessageStatus.OPENED,
    EventType.CLICKED: MessageStatus.CLICKED,
    EventType.BOUNCED: MessageStatus.BOUNCED,
    # Refused by the provider after it took the message (suppression list, invalid address): it never arrives.
    EventType.REJECTED: MessageStatus.BOUNCED,
    EventType.COMPLAINED: MessageStatus.COMPLAINED,
    EventType.UNSUBSCRIBED: MessageStatus.UNSUBSCRIBED,
}


def provider_ids(message_id: str) -> list[str]:
    """The forms one id may be stored in: an SMTP Message-ID with or without its angle brackets."""
    bare = message_id.strip().removeprefix("<").removesuffix(">")
    if not bare or "\x00" in bare or len(bare) > 253:  # not an id we could have stored (Postgres refuses NUL)
        return []
    return [bare, f"<{bare}>"]


def message_for_event(event: AnymailTrackingEvent) -> Message | None:
    ids = provider_ids(str(event.message_id or ""))
    if not ids:
        return None
    return Message.objects.select_related("campaign", "customer").filter(provider_id__in=ids).order_by("-pk").first()


def _insecure(view: type) -> bool:
    """Anymail's own test for a webhook open to anyone: one secured only by basic auth, with no secret set.
    Its events are not trusted, since a Message-ID (`<crm-msg-<id>@host>`) can be guessed and one forged
    "unsubscribed" would withdraw a member's consent."""
    needs_auth = getattr(view, "warn_if_no_basic_auth", False)
    return needs_auth and not get_anymail_setting("webhook_secret", default=[])


def tracking_received(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    if _insecure(sender):
        logger.warning("Ignored a %s tracking event: set ANYMAIL_WEBHOOK_SECRET to accept them", esp_name)
        return
    status = EVENTS.get(event.event_type)
    if status is None:  # queued, sent, deferred, autoresponded...: nothing a marketer acts on
        return
    message = message_for_event(event)
    if message is None:
        logger.info("%s %s event for an unknown message", esp_name, event.event_type)
        return
    at = event.timestamp
    detail = " ".join(filter(None, [event.reject_reason, event.description, event.mta_response]))
    if status == MessageStatus.UNSUBSCRIBED:
        message_unsubscribe(message=message, at=at)
    elif status == MessageStatus.COMPLAINED:
        message_complaint_record(message=message, at=at, detail=detail)
    else:
        message_event_record(message=message, event=status, at=at, detail=detail)

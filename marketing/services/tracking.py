"""What comes back from a message: deliveries, opens, clicks, bounces, complaints and unsubscribes.

Events arrive from the provider's webhooks (anymail), our own open pixel and click redirects, the unsubscribe
page and SMS replies, often more than once and out of order (a click before the open the pixel reports, a
late "delivered" after the click). So a row only moves forward, each first time is kept in its own column
(delivered_at, opened_at, clicked_at, unsubscribed_at), and a repeated event changes nothing.
"""

import datetime
import logging
import re
import unicodedata

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from customers.models import ConsentChannel, ConsentMethod, Customer
from customers.services.customers import consent_set
from marketing.models import Message, MessageStatus

logger = logging.getLogger(__name__)
# A provider's text goes into a one-line field: no control characters (Postgres refuses NUL).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# Rows the provider has (or may have: "unknown") that events may move. Rows never handed over (held out,
# skipped, queued, failed) or still being handed over ("sending": the worker records the answer) are left alone.
TRACKED = (
    MessageStatus.SENT,
    MessageStatus.UNKNOWN,
    MessageStatus.DELIVERED,
    MessageStatus.OPENED,
    MessageStatus.CLICKED,
    MessageStatus.BOUNCED,
    MessageStatus.COMPLAINED,
    MessageStatus.UNSUBSCRIBED,
)
EVENTS = (
    MessageStatus.DELIVERED,
    MessageStatus.OPENED,
    MessageStatus.CLICKED,
    MessageStatus.BOUNCED,
    MessageStatus.COMPLAINED,
    MessageStatus.UNSUBSCRIBED,
)
# How far along a row is. The member's own acts outrank what the mail system says about the message, and a
# complaint outranks an unsubscribe (the stronger signal for results and deliverability).
RANK = {
    MessageStatus.SENT: 0,
    MessageStatus.UNKNOWN: 0,
    MessageStatus.DELIVERED: 1,
    MessageStatus.BOUNCED: 2,
    MessageStatus.OPENED: 3,
    MessageStatus.CLICKED: 4,
    MessageStatus.UNSUBSCRIBED: 5,
    MessageStatus.COMPLAINED: 6,
}
# What each event proves besides itself: a click was opened and delivered, whatever the pixel saw (images off).
STAMPS = {
    MessageStatus.DELIVERED: ("delivered_at",),
    MessageStatus.OPENED: ("opened_at", "delivered_at"),
    MessageStatus.CLICKED: ("clicked_at", "opened_at", "delivered_at"),
    MessageStatus.UNSUBSCRIBED: ("unsubscribed_at", "delivered_at"),
    MessageStatus.COMPLAINED: ("delivered_at",),
    MessageStatus.BOUNCED: (),
}


def _moves(current: str, event: str) -> bool:
    if RANK[event] <= RANK[current]:
        return False
    # A bounce after an open or a click contradicts what the member did: keep what they did.
    return not (event == MessageStatus.BOUNCED and current in (MessageStatus.OPENED, MessageStatus.CLICKED))


@transaction.atomic
def message_event_record(
    *, message: Message, event: MessageStatus, at: datetime.datetime | None = None, detail: str = ""
) -> bool:
    """Record what happened to a sent message; True when the row changed.

    The status moves only forward (delivered < opened < clicked; a bounce only before an open; an unsubscribe
    and a complaint over anything), and the first time of each stays. A row not handed to the provider is not
    touched. `detail` (a bounce's or complaint's reason in the provider's words) is kept in `error`.
    """
    if event not in EVENTS:
        raise ValueError(f"not a tracking event: {event}")
    at = at or timezone.now()
    row = Message.objects.select_for_update().filter(pk=message.pk, status__in=TRACKED).first()
    if row is None:
        return False
    changed = []
    if _moves(row.status, event):
        row.status = event
        changed.append("status")
        if event in (MessageStatus.BOUNCED, MessageStatus.COMPLAINED) and detail:
            row.error = _CONTROL.sub(" ", " ".join(detail.split()))[:255]
            changed.append("error")
    for stamp in STAMPS[event]:
        if getattr(row, stamp) is None:
            setattr(row, stamp, at)
            changed.append(stamp)
    if changed:
        row.save(update_fields=changed)
        for name in changed:
            setattr(message, name, getattr(row, name))
    return bool(changed)


@transaction.atomic
def message_unsubscribe(*, message: Message, at: datetime.datetime | None = None, note: str = "") -> bool:
    """The member asked to hear no more on this message's channel: their consent is withdrawn (with its history,
    method "unsubscribe"), so the next send's consent check skips them, and the row shows it. Idempotent; the
    withdrawal happens whatever state the row is in (a member's request is always honoured). True when consent
    was withdrawn now."""
    campaign = message.campaign
    with _site_language():
        note = note or _("Unsubscribed from “%(campaign)s”") % {"campaign": campaign.name}
    withdrawn = _withdraw(customer=message.customer, channel=ConsentChannel(campaign.channel), note=note)
    message_event_record(message=message, event=MessageStatus.UNSUBSCRIBED, at=at)
    return withdrawn


@transaction.atomic
def message_complaint_record(*, message: Message, at: datetime.datetime | None = None, detail: str = "") -> bool:
    """Marked as spam: recorded on the row, and consent for the channel withdrawn (a member who reports our
    mail as spam has told us to stop as clearly as one who unsubscribes). True when the row changed."""
    changed = message_event_record(message=message, event=MessageStatus.COMPLAINED, at=at, detail=detail)
    with _site_language():
        note = _("Marked “%(campaign)s” as spam") % {"campaign": message.campaign.name}
    _withdraw(customer=message.customer, channel=ConsentChannel(message.campaign.channel), note=note)
    return changed


def _site_language() -> translation.override:
    """Notes are kept in the site's language, whoever's request (a member's, in theirs) wrote them."""
    return translation.override(settings.LANGUAGE_CODE)


def _withdraw(*, customer: Customer, channel: ConsentChannel, note: str) -> bool:
    event = consent_set(
        customer=customer, channel=channel, granted=False, method=ConsentMethod.UNSUBSCRIBE, note=note[:255]
    )
    return event is not None


# SMS replies that mean "stop": compared after dropping spaces and punctuation, full-width to half-width, any case.
SMS_STOP_WORDS = frozenset({"T", "TD", "退订", "STOP", "UNSUBSCRIBE"})
_SPACE = re.compile(r"\s+")


def sms_reply_is_stop(text: str) -> bool:
    compact = _SPACE.sub("", unicodedata.normalize("NFKC", text or ""))
    compact = "".join(c for c in compact if not unicodedata.category(c).startswith(("P", "C", "S")))
    return compact.upper() in SMS_STOP_WORDS


@transaction.atomic
def sms_reply_receive(*, mobile: str, text: str, at: datetime.datetime | None = None) -> bool:
    """A text message from a member's mobile (`mobile` in stored E.164 form). A stop word withdraws their SMS
    consent (method unsubscribe, note "SMS reply") and marks the last SMS they were sent as unsubscribed.
    Any other text, or a number we do not know, changes nothing. True when consent was withdrawn now."""
    if not mobile or not sms_reply_is_stop(text):
        return False
    customer = Customer.objects.filter(mobile=mobile).first()
    if customer is None:
        return False
    with _site_language():
        note = _("SMS reply")
    withdrawn = _withdraw(customer=customer, channel=ConsentChannel.SMS, note=note)
    last = (
        Message.objects.filter(customer=customer, campaign__channel=ConsentChannel.SMS, sent_at__isnull=False)
        .order_by("-sent_at", "-pk")
        .first()
    )
    if last is not None:
        message_event_record(message=last, event=MessageStatus.UNSUBSCRIBED, at=at)
    return withdrawn

"""The guardrails a message passes before it goes out, each with the reason stored on a skipped row.

- consent for the campaign's channel, read at the moment the row is claimed (never from the freeze);
- an address for the channel;
- the frequency cap: at most CRM_FREQUENCY_CAP messages sent to a member in CRM_FREQUENCY_DAYS days, across
  campaigns and automations (rows claimed by other sends count too, so two campaigns at once cannot both pass);
- SMS quiet hours (CRM_SMS_QUIET_HOURS in TIME_ZONE): the rows wait, queued, until the hours end.

The same rules, in SQL, give the held-out rows their would-be reason at freeze (so results compare like with
like) and the audience preview its counts.
"""

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.db import connection
from django.utils import timezone

from customers.models import ConsentChannel
from marketing import channels
from marketing.models import MessageStatus, SkipReason

# (consent field, address field) per channel; a registered channel's own attributes win.
_FIELDS = {ConsentChannel.EMAIL: ("email_opt_in", "email"), ConsentChannel.SMS: ("sms_opt_in", "mobile")}


def channel_fields(key: str) -> tuple[str, str]:
    channel = channels.registered().get(key)
    if channel is not None:
        return channel.consent_field, channel.address_field
    return _FIELDS[key]


def skip_reason(*, consent: bool, address: str, recent_sends: int) -> str:
    """The reason a member is not messaged now, or "" when they may be."""
    if not consent:
        return SkipReason.NO_CONSENT
    if not address:
        return SkipReason.NO_ADDRESS
    if recent_sends >= settings.CRM_FREQUENCY_CAP:
        return SkipReason.FREQUENCY_CAP
    return ""


def cap_since(now: datetime.datetime) -> datetime.datetime:
    return now - datetime.timedelta(days=settings.CRM_FREQUENCY_DAYS)


def recent_sends(customer_ids: Iterable[int], *, now: datetime.datetime, exclude_ids: Iterable[int] = ()) -> dict:
    """Messages each member was sent (or is being sent) in the cap's window: {customer id: count}.

    One index probe per member (their own few rows), whatever the planner believes about the table: asked as
    one `customer_id = ANY(...)` over a message table that grew by a million rows since it was last analysed,
    Postgres read the whole table for every batch (a quarter of a second per 1,000 members). The same stale
    statistics make these probes look costly enough to compile (JIT): 180 ms of compiling for 5 ms of work."""
    ids = list(customer_ids)
    if not ids:
        return {}
    with connection.cursor() as cursor:
        # One round trip (each waits for the scheduler on a busy machine): statements sent together run as one
        # transaction, so SET LOCAL holds for the SELECT and ends with it (inside a caller's transaction, with that).
        cursor.execute(
            """
            SET LOCAL jit = off;
            SELECT member.id, recent.count FROM unnest(%s::bigint[]) AS member (id)
            CROSS JOIN LATERAL (
                SELECT count(*) AS count FROM marketing_message x
                WHERE x.customer_id = member.id
                  AND ((x.sent_at IS NOT NULL AND x.sent_at >= %s) OR x.status = %s)
                  AND NOT (x.id = ANY(%s::bigint[]))
            ) recent
            WHERE recent.count > 0
            """,
            [ids, cap_since(now), MessageStatus.SENDING, list(exclude_ids)],
        )
        return dict(cursor.fetchall())


def reason_sql(channel: str, now: datetime.datetime) -> tuple[str, list]:
    """skip_reason() over a customer row `cu`, in SQL, and its parameters."""
    consent, address = channel_fields(channel)
    sql = f"""
        CASE WHEN NOT cu.{consent} THEN '{SkipReason.NO_CONSENT}'
             WHEN cu.{address} = '' THEN '{SkipReason.NO_ADDRESS}'
             WHEN (SELECT count(*) FROM marketing_message x
                   WHERE x.customer_id = cu.id AND x.sent_at >= %s) >= %s
                  THEN '{SkipReason.FREQUENCY_CAP}'
             ELSE '' END"""  # noqa: S608 -- only our constants and model field names are formatted in
    return sql, [cap_since(now), settings.CRM_FREQUENCY_CAP]


def _quiet_hours() -> tuple[datetime.time, datetime.time] | None:
    text = (settings.CRM_SMS_QUIET_HOURS or "").strip()
    if not text:
        return None
    start, end = (datetime.time.fromisoformat(part.strip()) for part in text.split("-"))
    return start, end


def quiet_until(channel: str, now: datetime.datetime) -> datetime.datetime | None:
    """When SMS quiet hours end, if `now` is inside them (for another channel, or outside them: None)."""
    hours = _quiet_hours()
    if channel != ConsentChannel.SMS or hours is None:
        return None
    start, end = hours
    local = timezone.localtime(now)
    at = local.time()
    inside = (start <= at < end) if start <= end else (at >= start or at < end)
    if not inside:
        return None
    day = local.date() if at < end else local.date() + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(day, end))

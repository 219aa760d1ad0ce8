"""One batch of a campaign: claim rows, apply the guardrails, render, hand to the channel, record each answer.

Exactly once, or reported:
- a claim is one UPDATE of the next ready rows (queued -> sending, with a lease), whose RETURNING says which rows
  this worker won (FOR UPDATE SKIP LOCKED: two workers, or one task delivered twice, never win the same row), and
  which reads the member's consent and address in the same statement, so the guardrails judge that moment;
- each message's answer is recorded as soon as the channel yields it, before the next is handed over;
- a row handed over whose answer never came (the connection dropped) is "unknown" at once; a claim whose
  worker died stays "sending" until its lease ends, when the sweep marks the one row that may have been in
  flight "unknown" and queues the rest again (lifecycle.claims_expire): nothing is ever sent again blindly;
- rows claimed but not handed over (paused, auto-paused, the channel went away) go back to "queued".
"""

import contextlib
import datetime
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from customers.models import Customer
from marketing import channels, links, rendering, templating
from marketing.channels import SendFailed
from marketing.models import Campaign, CampaignKind, CampaignStatus, CampaignVariant, Coupon, MessageStatus
from marketing.services.coupons import coupon_issue
from marketing.services.sending import guardrails
from marketing.services.sending.lifecycle import (
    READY_SQL,
    campaign_finish_if_done,
    campaign_pause,
    lane_touch,
    sendable,
)

FAILURES = (MessageStatus.FAILED, MessageStatus.UNKNOWN, MessageStatus.BOUNCED)
ATTEMPTED = (
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.OPENED,
    MessageStatus.CLICKED,
    MessageStatus.COMPLAINED,
    MessageStatus.UNSUBSCRIBED,
    *FAILURES,
)
STATUS_EVERY = 50  # re-read the campaign's status this often within a batch (a pause stops the batch)


class ChannelUnavailable(Exception):
    """The channel stopped the batch (a connection error): the rows not handed over are queued again, and the
    batch task retries later under the shared policy."""


@dataclass
class Claimed:
    id: int
    customer_id: int
    variant_id: int
    occasion: str
    consent: bool
    address: str


@dataclass
class BatchResult:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    unknown: int = 0
    released: int = 0
    seconds: float = 0.0
    more: bool = False


def _claim(campaign: Campaign, limit: int) -> list[Claimed]:
    consent, address = guardrails.channel_fields(campaign.channel)
    now = timezone.now()
    lease = now + datetime.timedelta(seconds=settings.CRM_SEND_LEASE_SECONDS)
    sql = f"""
        WITH picked AS (
            SELECT id FROM marketing_message WHERE {READY_SQL} ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
        )
        UPDATE marketing_message m SET status = %s, lease_until = %s
        FROM picked, customers_customer cu, marketing_campaign c
        WHERE m.id = picked.id AND cu.id = m.customer_id AND c.id = m.campaign_id AND m.status = %s
          AND (c.status = %s OR (c.kind = %s AND c.status NOT IN (%s, %s)))
        RETURNING m.id, m.customer_id, m.variant_id, m.occasion, cu.{consent}, cu.{address}
    """  # noqa: S608 -- only our constants and model field names are formatted in
    params = [
        campaign.pk,
        now,
        limit,
        MessageStatus.SENDING,
        lease,
        MessageStatus.QUEUED,
        CampaignStatus.SENDING,
        CampaignKind.AUTOMATION,
        CampaignStatus.PAUSED,
        CampaignStatus.CANCELLED,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted((Claimed(*row) for row in cursor.fetchall()), key=lambda row: row.id)


def _execute(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _skip(ids: list[int], reason: str) -> None:
    _execute(
        "UPDATE marketing_message SET status = %s, skip_reason = %s WHERE id = ANY(%s::bigint[]) AND status = %s",
        [MessageStatus.SKIPPED, reason, ids, MessageStatus.SENDING],
    )


def _record(row_id: int, *, status: str, error: str = "", provider_id: str = "", **frozen: object) -> None:
    # A late answer for a row the sweep already called "unknown" is still the truth about it.
    _execute(
        """
        UPDATE marketing_message SET status = %s, error = %s, provider_id = %s, sent_at = %s, address = %s,
               language = %s, coupon_id = %s
        WHERE id = %s AND status IN (%s, %s)
        """,
        [
            status,
            error[:255],
            provider_id[:255],
            timezone.now() if status == MessageStatus.SENT else None,
            frozen.get("address", ""),
            frozen.get("language", ""),
            frozen.get("coupon_id"),
            row_id,
            MessageStatus.SENDING,
            MessageStatus.UNKNOWN,
        ],
    )


def _failure_window(campaign: Campaign, before_id: int) -> deque:
    """The outcomes (True: failed) of the campaign's last sends before this batch, since its last resume."""
    lease = datetime.timedelta(seconds=settings.CRM_SEND_LEASE_SECONDS)
    since = campaign.resumed_at + lease if campaign.resumed_at else None
    window = deque(maxlen=settings.CRM_AUTOPAUSE_WINDOW)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT status FROM marketing_message
            WHERE campaign_id = %s AND id < %s AND status IN {tuple(str(s) for s in ATTEMPTED)}
              AND (%s::timestamptz IS NULL OR lease_until >= %s)
            ORDER BY id DESC LIMIT %s
            """,  # noqa: S608 -- only our constants and model field names are formatted in
            [campaign.pk, before_id, since, since, window.maxlen],
        )
        window.extend(status in FAILURES for (status,) in reversed(cursor.fetchall()))
    return window


def _coupons(campaign: Campaign, rows: list[Claimed]) -> dict[tuple[int, str], Coupon]:
    """Coupons already issued for these rows (a row claimed again after a lost worker keeps its code)."""
    if campaign.offer_id is None:
        return {}
    occasions = {_coupon_occasion(campaign, row.occasion) for row in rows}
    found = Coupon.objects.filter(
        offer_id=campaign.offer_id, occasion__in=occasions, customer_id__in=[row.customer_id for row in rows]
    )
    return {(coupon.customer_id, coupon.occasion): coupon for coupon in found}


def _coupon_occasion(campaign: Campaign, occasion: str) -> str:
    return f"campaign:{campaign.pk}" + (f":{occasion}" if occasion else "")


def messages_send_batch(*, campaign_id: int, limit: int | None = None) -> BatchResult | None:
    """Send the campaign's next batch (up to `limit`, default CRM_SEND_BATCH). None when the campaign is gone or
    not sending. Raises ChannelUnavailable when the channel stopped the batch (after putting rows back)."""
    started = time.monotonic()
    campaign = Campaign.objects.filter(pk=campaign_id).select_related("offer").first()
    if campaign is None or not sendable(campaign):
        return None
    lane_touch(campaign.pk)
    result = BatchResult()
    quiet = guardrails.quiet_until(campaign.channel, timezone.now())
    if quiet is not None:
        # SMS quiet hours: the ready rows wait, queued, until morning; the sweep dispatches them then.
        hold = f"UPDATE marketing_message SET not_before = %s WHERE {READY_SQL}"  # noqa: S608 -- a constant
        _execute(hold, [quiet, campaign.pk, quiet])
        return result
    rows = _claim(campaign, limit or settings.CRM_SEND_BATCH)
    result.claimed = len(rows)
    if rows:
        _send(campaign, rows, result)
    result.more = sendable(campaign) and _has_ready(campaign.pk)
    if not result.more:
        campaign_finish_if_done(campaign_id=campaign.pk)
    result.seconds = time.monotonic() - started
    return result


def batch_pause(result: BatchResult) -> float:
    """Seconds the lane waits before its next batch, so the campaign keeps to CRM_SEND_RATE a second."""
    if settings.CRM_SEND_RATE <= 0:
        return 0.0
    per_lane = settings.CRM_SEND_RATE / max(settings.CRM_SEND_LANES, 1)
    return max(0.0, (result.sent + result.failed + result.unknown) / per_lane - result.seconds)


def _has_ready(campaign_id: int) -> bool:
    with connection.cursor() as cursor:
        sql = f"SELECT EXISTS (SELECT 1 FROM marketing_message WHERE {READY_SQL})"  # noqa: S608 -- a constant
        cursor.execute(sql, [campaign_id, timezone.now()])
        return cursor.fetchone()[0]


def _send(campaign: Campaign, rows: list[Claimed], result: BatchResult) -> None:
    channel = channels.get(campaign.channel)
    recent = guardrails.recent_sends(
        {row.customer_id for row in rows}, now=timezone.now(), exclude_ids=[row.id for row in rows]
    )
    skipped: dict[str, list[int]] = {}
    going: list[Claimed] = []
    for row in rows:
        reason = guardrails.skip_reason(
            consent=row.consent, address=row.address, recent_sends=recent.get(row.customer_id, 0)
        )
        if reason:
            skipped.setdefault(reason, []).append(row.id)
        else:
            recent[row.customer_id] = recent.get(row.customer_id, 0) + 1
            going.append(row)
    for reason, ids in skipped.items():
        _skip(ids, reason)
        result.skipped += len(ids)
    if not going:
        return
    members = Customer.objects.select_related("tier").in_bulk([row.customer_id for row in going])
    variants = {v.pk: v for v in CampaignVariant.objects.filter(campaign=campaign).prefetch_related("templates")}
    coupons = _coupons(campaign, going)
    window = _failure_window(campaign, going[0].id)
    handed: dict[int, dict] = {}  # pulled by the channel, answer not yet recorded: what to freeze on the row
    state = {"stop": False, "position": 0}

    # Past half its lease a batch hands nothing more over: the sweep may requeue its rows after the lease.
    deadline = time.monotonic() + settings.CRM_SEND_LEASE_SECONDS / 2

    def outgoing() -> Iterator[channels.Outgoing]:
        for row in going:
            if state["stop"] or time.monotonic() > deadline:
                return
            state["position"] += 1
            customer = members.get(row.customer_id)
            if customer is None:
                continue  # erased since the claim: its row went with it
            try:
                coupon = _coupon_for(campaign, row, customer, coupons)
                out, frozen = _build(channel, campaign, row, customer, variants[row.variant_id], coupon)
            except (ValidationError, templating.TemplateError, KeyError) as error:
                message = " ".join(getattr(error, "messages", [str(error)]))
                _record(row.id, status=MessageStatus.FAILED, error=message)
                result.failed += 1
                _watch(True, message)
                continue
            handed[row.id] = frozen
            yield out

    def _watch(failed: bool, error: str) -> None:
        window.append(failed)
        if failed and sum(window) >= settings.CRM_AUTOPAUSE_FAILURES:
            state["stop"] = True
            _auto_pause(campaign, failures=sum(window), error=error)
        elif state["position"] % STATUS_EVERY == 0:
            campaign.refresh_from_db(fields=["status"])
            state["stop"] = not sendable(campaign)

    try:
        for out, answer in channel.send(outgoing()):
            frozen = handed.pop(out.message_id)
            if isinstance(answer, SendFailed):
                _record(out.message_id, status=MessageStatus.FAILED, error=answer.reason, **frozen)
                result.failed += 1
                _watch(True, answer.reason)
            else:
                _record(out.message_id, status=MessageStatus.SENT, provider_id=answer, **frozen)
                result.sent += 1
                _watch(False, "")
    except DatabaseError:
        raise  # the rows stay claimed; the sweep reports them
    except Exception as error:
        # Handed over with no answer: the provider may have it. Never sent again, reported as unknown.
        for row_id, frozen in handed.items():
            _record(row_id, status=MessageStatus.UNKNOWN, error=str(error) or type(error).__name__, **frozen)
        result.unknown += len(handed)
        result.released += _release([row.id for row in going])
        raise ChannelUnavailable(str(error) or type(error).__name__) from error
    result.released += _release([row.id for row in going])


def _release(ids: list[int]) -> int:
    """Claimed rows never handed over go back to the queue."""
    return _execute(
        "UPDATE marketing_message SET status = %s, lease_until = NULL WHERE id = ANY(%s::bigint[]) AND status = %s",
        [MessageStatus.QUEUED, ids, MessageStatus.SENDING],
    )


def _auto_pause(campaign: Campaign, *, failures: int, error: str) -> None:
    reason = _("Paused automatically: %(failures)d of the last %(window)d messages failed (last error: %(error)s)") % {
        "failures": failures,
        "window": settings.CRM_AUTOPAUSE_WINDOW,
        "error": error,
    }
    with contextlib.suppress(ValidationError):  # already paused or cancelled: stopping is all that is needed
        campaign_pause(campaign=campaign, actor=None, reason=reason)


def _coupon_for(campaign: Campaign, row: Claimed, customer: Customer, coupons: dict) -> Coupon | None:
    if campaign.offer_id is None:
        return None
    occasion = _coupon_occasion(campaign, row.occasion)
    coupon = coupons.get((row.customer_id, occasion))
    if coupon is None:
        coupon = coupon_issue(offer=campaign.offer, customer=customer, actor=None, occasion=occasion)
    return coupon


def _build(
    channel: channels.Channel,
    campaign: Campaign,
    row: Claimed,
    customer: Customer,
    variant: CampaignVariant,
    coupon: Coupon | None,
) -> tuple[channels.Outgoing, dict]:
    language = rendering.member_language(customer)
    template = rendering.template_for(variant, language)
    if template is None:
        raise ValidationError(_("The variant has no template."))
    unsubscribe = links.unsubscribe_url(row.id)
    with translation.override(template.language):
        rendered = rendering.render_for(template, customer, coupon=coupon, unsubscribe_url=unsubscribe)
        out = build_outgoing(
            channel,
            message_id=row.id,
            to=row.address,
            rendered=rendered,
            template=template,
            unsubscribe_url=unsubscribe,
        )
    frozen = {"address": row.address, "language": template.language, "coupon_id": coupon.pk if coupon else None}
    return out, frozen


def build_outgoing(channel: channels.Channel, **parts: object) -> channels.Outgoing:
    """The channel's own message (e-mail adds its headers, links and pixel), or a plain one."""
    build = getattr(channel, "build", None)
    if build is not None:
        return build(**parts)
    rendered = parts["rendered"]
    return channels.Outgoing(
        message_id=parts["message_id"],
        key=parts.get("key") or f"crm-msg-{parts['message_id']}",
        to=parts["to"],
        subject=rendered.subject,
        body=rendered.body,
    )

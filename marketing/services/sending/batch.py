"""One batch of a campaign: claim rows, apply the guardrails, render, hand to the channel, record the answers.

Exactly once, or reported:
- a claim is one UPDATE of the next ready rows (queued -> sending, with a lease), whose RETURNING says which rows
  this worker won (FOR UPDATE SKIP LOCKED: two workers, or one task delivered twice, never win the same row), and
  which reads the member's consent and address in the same statement, so the guardrails judge that moment;
- the rows go to the channel in groups of CRM_SEND_GROUP: a group is marked handed (committed) before its first
  message goes, and its answers are recorded in the same commit that marks the next group (or after the last
  group), so answers are never later than the next group's mark. Committing each message alone would wait for
  the disk once per message (a few hundred a second at most); one commit per group waits once per group;
- a row handed over whose answer never came (the connection dropped) is "unknown" at once. A worker that dies
  leaves its claim "sending" until the lease ends; then the sweep marks its handed rows "unknown" and queues
  the others again (lifecycle.claims_expire): nothing is ever sent twice, at most one group is reported unknown;
- rows claimed but not handed over (paused, auto-paused, the channel went away) go back to "queued".
"""

import contextlib
import datetime
import logging
import math
import secrets
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm import member_values
from crm.celery import ServiceUnavailable
from customers.models import Customer
from marketing import channels, links, rendering, templating
from marketing.channels import SendFailed
from marketing.models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    CampaignVariant,
    Coupon,
    Message,
    MessageStatus,
    SkipReason,
)
from marketing.services.coupons import coupon_issue
from marketing.services.sending import guardrails, records
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
logger = logging.getLogger(__name__)
STATUS_EVERY = 50  # re-read the campaign's status this often within a batch (a pause stops the batch)


class ChannelUnavailable(ServiceUnavailable):
    """The channel stopped the batch (a connection error): the rows not handed over are queued again, and the
    batch task retries later under the shared policy."""


@dataclass
class Claimed:
    lease: datetime.datetime  # the claim's lease_until: the token its writes name (records.py)
    id: int
    customer_id: int
    variant_id: int
    occasion: str
    consent: bool
    address: str
    status: str  # "sending", or "skipped" already (no consent or no address)


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
    """Claim the next ready rows. A member without consent or address at this moment is skipped (with the
    reason) by the same statement, so such a row is written once; the others become "sending"."""
    consent, address = guardrails.channel_fields(campaign.channel)
    now = timezone.now()
    # Unique to this claim (a random microsecond): the token the batch's writes name (records.py).
    lease = now + datetime.timedelta(seconds=settings.CRM_SEND_LEASE_SECONDS, microseconds=secrets.randbelow(10**6))
    reason = f"CASE WHEN NOT cu.{consent} THEN %s WHEN cu.{address} = '' THEN %s ELSE '' END"
    sql = f"""
        WITH picked AS (
            SELECT id FROM marketing_message WHERE {READY_SQL} ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
        )
        UPDATE marketing_message m
        SET skip_reason = {reason},
            status = CASE WHEN {reason} = '' THEN %s ELSE %s END,
            lease_until = CASE WHEN {reason} = '' THEN %s::timestamptz END
        FROM picked, customers_customer cu, marketing_campaign c
        WHERE m.id = picked.id AND cu.id = m.customer_id AND c.id = m.campaign_id AND m.status = %s
          AND (c.status = %s OR (c.kind = %s AND c.status NOT IN (%s, %s)))
        RETURNING m.id, m.customer_id, m.variant_id, m.occasion, cu.{consent}, cu.{address}, m.status
    """  # noqa: S608 -- only our constants and model field names are formatted in
    reasons = [SkipReason.NO_CONSENT, SkipReason.NO_ADDRESS]
    params = [
        campaign.pk,
        now,
        limit,
        *reasons,
        *reasons,
        MessageStatus.SENDING,
        MessageStatus.SKIPPED,
        *reasons,
        lease,
        MessageStatus.QUEUED,
        CampaignStatus.SENDING,
        CampaignKind.AUTOMATION,
        CampaignStatus.PAUSED,
        CampaignStatus.CANCELLED,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted((Claimed(lease, *row) for row in cursor.fetchall()), key=lambda row: row.id)


def _execute(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


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
    rows = _claim(campaign, limit or batch_size())
    result.claimed = len(rows)
    if rows:
        _send(campaign, rows, result)
        # Which worker sent what: each worker's log (the rows say what happened, not where).
        logger.info(
            "campaign %s: batch claimed %d, sent %d, failed %d, skipped %d, unknown %d",
            campaign.pk,
            result.claimed,
            result.sent,
            result.failed,
            result.skipped,
            result.unknown,
        )
    result.more = sendable(campaign) and _has_ready(campaign.pk)
    if not result.more:
        campaign_finish_if_done(campaign_id=campaign.pk)
    result.seconds = time.monotonic() - started
    return result


def batch_size() -> int:
    """CRM_SEND_BATCH, or fewer when the rate is low: a lane's batch takes about ten seconds at the rate, so the
    messages go out evenly rather than in bursts between long waits."""
    if settings.CRM_SEND_RATE <= 0:
        return settings.CRM_SEND_BATCH
    per_lane = settings.CRM_SEND_RATE / max(settings.CRM_SEND_LANES, 1)
    return max(1, min(settings.CRM_SEND_BATCH, math.ceil(per_lane * 10)))


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
    going = _judge(campaign, rows, result)
    if not going:
        return
    members = Customer.objects.select_related("tier").in_bulk([row.customer_id for row in going])
    variants = {v.pk: v for v in CampaignVariant.objects.filter(campaign=campaign).prefetch_related("templates")}
    # Values other apps register (recommended products): loaded for the whole batch, only those the texts name.
    texts = [part for v in variants.values() for t in v.templates.all() for part in (t.subject, t.body, t.html)]
    used = member_values.used_in(*texts)
    extras = member_values.load(used, [row.customer_id for row in going]) if used else {}
    coupons = _coupons(campaign, going)
    window = _failure_window(campaign, going[0].id)
    lease = going[0].lease
    answers: list[records.Answer] = []  # recorded a group at a time
    handed: dict[int, records.Answer] = {}  # given to the channel, no answer yet
    done: set[int] = set()  # answered, or failed before being handed
    state = {"stop": False, "count": 0}
    # Past half its lease a batch hands nothing more over: the sweep may settle its rows after the lease.
    deadline = time.monotonic() + settings.CRM_SEND_LEASE_SECONDS / 2

    def watch(failed: bool, error: str) -> None:
        window.append(failed)
        state["count"] += 1
        if failed and sum(window) >= settings.CRM_AUTOPAUSE_FAILURES:
            state["stop"] = True
            _auto_pause(campaign, failures=sum(window), error=error)
        elif state["count"] % STATUS_EVERY == 0:
            campaign.refresh_from_db(fields=["status"])
            state["stop"] = not sendable(campaign)

    def outgoing() -> Iterator[channels.Outgoing]:
        size = max(settings.CRM_SEND_GROUP, 1)
        for start in range(0, len(going), size):
            if state["stop"] or time.monotonic() > deadline:
                return  # the answers so far are recorded after the loop
            group = []
            for row in going[start : start + size]:
                customer = members.get(row.customer_id)
                if customer is None:
                    done.add(row.id)  # erased since the claim: its row went with it
                    continue
                try:
                    coupon = _coupon_for(campaign, row, customer, coupons)
                    extra = extras.get(row.customer_id, {})
                    group.append(_build(channel, row, customer, variants[row.variant_id], coupon, extra))
                except (ValidationError, templating.TemplateError, KeyError) as error:
                    reason = " ".join(getattr(error, "messages", [str(error)]))
                    answers.append(records.Answer(row.id, MessageStatus.FAILED, error=reason))
                    done.add(row.id)
                    result.failed += 1
                    watch(True, reason)
            # One commit: the previous group's answers and this group's mark.
            held = records.record_and_mark(answers, [out.message_id for out, _answer in group], lease=lease)
            for out, answer in group:
                if state["stop"] or time.monotonic() > deadline:  # marked handed but not given: released after
                    return
                if out.message_id not in held:  # the claim was lost (this worker stalled past its lease)
                    done.add(out.message_id)
                    continue
                handed[out.message_id] = answer
                yield out

    try:
        for out, answer in channel.send(outgoing()):
            row = handed.pop(out.message_id)
            done.add(out.message_id)
            if isinstance(answer, SendFailed):
                row.status, row.error = MessageStatus.FAILED, answer.reason
                result.failed += 1
            else:
                row.status, row.provider_id, row.sent_at = MessageStatus.SENT, answer, timezone.now()
                result.sent += 1
            answers.append(row)
            watch(row.status == MessageStatus.FAILED, row.error)
    except DatabaseError:
        raise  # the rows stay claimed; the sweep settles them
    except Exception as error:
        # Handed over with no answer: the provider may have it. Never sent again, reported as unknown.
        reason = str(error) or type(error).__name__
        for row in handed.values():
            row.status, row.error = MessageStatus.UNKNOWN, reason
            answers.append(row)
            done.add(row.id)
        result.unknown += len(handed)
        for _row in handed.values():
            watch(True, reason)  # a connection that keeps dropping mid-send pauses the campaign too
        records.record(answers, lease=lease)
        _give_back(campaign, [row.id for row in going if row.id not in done], result, lease=lease)
        raise ChannelUnavailable(reason) from error
    records.record(answers, lease=lease)
    _give_back(campaign, [row.id for row in going if row.id not in done], result, lease=lease)


def _give_back(campaign: Campaign, ids: list[int], result: BatchResult, *, lease: datetime.datetime) -> None:
    """Rows claimed but not handed over go back to the queue, or are skipped if the campaign was cancelled."""
    result.released += records.release(ids, lease=lease)
    if result.released and Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.CANCELLED).exists():
        Message.objects.filter(campaign=campaign, status=MessageStatus.QUEUED).update(
            status=MessageStatus.SKIPPED, skip_reason=SkipReason.CANCELLED
        )


def _judge(campaign: Campaign, rows: list[Claimed], result: BatchResult) -> list[Claimed]:
    """Skip (with the reason) the rows over the frequency cap now; the rest may go. The claim has already
    skipped those without consent or address."""
    candidates = [row for row in rows if row.status != MessageStatus.SKIPPED]
    result.skipped += len(rows) - len(candidates)
    recent = guardrails.recent_sends(
        {row.customer_id for row in candidates}, now=timezone.now(), exclude_ids=[row.id for row in rows]
    )
    skipped: dict[str, list[int]] = {}
    going: list[Claimed] = []
    for row in candidates:
        reason = guardrails.skip_reason(
            consent=row.consent, address=row.address, recent_sends=recent.get(row.customer_id, 0)
        )
        if reason:
            skipped.setdefault(reason, []).append(row.id)
        else:
            recent[row.customer_id] = recent.get(row.customer_id, 0) + 1
            going.append(row)
    for reason, ids in skipped.items():
        records.skip(ids, reason, lease=rows[0].lease)
        result.skipped += len(ids)
    return going


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
    row: Claimed,
    customer: Customer,
    variant: CampaignVariant,
    coupon: Coupon | None,
    extra: dict,
) -> tuple[channels.Outgoing, records.Answer]:
    """The member's message, and what its row will freeze (address, language, coupon) whatever the answer."""
    language = rendering.member_language(customer)
    template = rendering.template_for(variant, language)
    if template is None:
        raise ValidationError(_("The variant has no template."))
    unsubscribe = links.unsubscribe_url(row.id)
    with translation.override(template.language):
        # An automation's occasion brings its own values (the points that lapse, the survey's score links).
        rendered = rendering.render_for(
            template, customer, coupon=coupon, unsubscribe_url=unsubscribe, occasion=row.occasion, extra=extra
        )
        out = build_outgoing(
            channel,
            message_id=row.id,
            to=row.address,
            rendered=rendered,
            template=template,
            unsubscribe_url=unsubscribe,
        )
    answer = records.Answer(
        row.id, MessageStatus.SENDING, address=row.address, language=template.language, coupon_id=coupon and coupon.pk
    )
    return out, answer


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

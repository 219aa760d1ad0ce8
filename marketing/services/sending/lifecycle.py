"""A campaign's states around its rows: dispatching batches, pause, resume, cancel, progress, the sweep.

The rows are the only truth: a campaign is "sent" only when none of its rows is queued or being sent, and
anything that stopped (a paused campaign, a killed worker, a lost task) is picked up again from the rows.
"""

import datetime
import math

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.queue import enqueue
from marketing.models import Campaign, CampaignKind, CampaignStatus, Message, MessageStatus, SkipReason

PENDING = (MessageStatus.QUEUED, MessageStatus.SENDING)
# A lane (a chain of batch tasks) touches this key at each batch; the sweep re-dispatches a campaign whose
# lanes have all gone quiet (their worker was killed, their task lost) while rows are ready.
LANE_KEY = "marketing:campaign-lane:{}"
LANE_QUIET_SECONDS = 120

# Ready rows: queued, with a variant (an A/B campaign's rest waits for the winner), not held for later.
READY_SQL = f"""
    campaign_id = %s AND status = '{MessageStatus.QUEUED}' AND variant_id IS NOT NULL
    AND (not_before IS NULL OR not_before <= %s)
"""


def sendable(campaign: Campaign) -> bool:
    """Whether workers may claim the campaign's rows. An automation sends unless paused or cancelled."""
    if campaign.kind == CampaignKind.AUTOMATION:
        return campaign.status not in (CampaignStatus.PAUSED, CampaignStatus.CANCELLED)
    return campaign.status == CampaignStatus.SENDING


def lane_touch(campaign_id: int, *, waiting: float = 0) -> None:
    """A lane is alive (and will wait `waiting` seconds before its next batch)."""
    cache.set(LANE_KEY.format(campaign_id), 1, LANE_QUIET_SECONDS + math.ceil(waiting))


def _ready(campaign_id: int, limit: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM marketing_message WHERE {READY_SQL} LIMIT %s) t",  # noqa: S608
            [campaign_id, timezone.now(), limit],
        )
        return cursor.fetchone()[0]


def campaign_finish_if_done(*, campaign_id: int) -> bool:
    """A sending campaign with no row queued or being sent becomes "sent"."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE marketing_campaign SET status = %s, finished_at = %s
            WHERE id = %s AND status = %s AND kind = %s AND NOT EXISTS (
                SELECT 1 FROM marketing_message WHERE campaign_id = %s AND status IN {tuple(str(s) for s in PENDING)}
            )
            """,  # noqa: S608 -- only our constants and model field names are formatted in
            [
                CampaignStatus.SENT,
                timezone.now(),
                campaign_id,
                CampaignStatus.SENDING,
                CampaignKind.ONE_OFF,
                campaign_id,
            ],
        )
        return cursor.rowcount == 1


def campaign_dispatch(*, campaign: Campaign) -> int:
    """Queue batch tasks (after commit) for the campaign's ready rows: one lane per CRM_SEND_BATCH rows, at most
    CRM_SEND_LANES. Any worker takes any batch; the rows decide what is sent. Returns the tasks queued."""
    from marketing.tasks import campaign_send_batch_task

    if not sendable(campaign):
        return 0
    batch = max(settings.CRM_SEND_BATCH, 1)
    ready = _ready(campaign.pk, batch * settings.CRM_SEND_LANES)
    if not ready:
        campaign_finish_if_done(campaign_id=campaign.pk)
        return 0
    lanes = min(settings.CRM_SEND_LANES, math.ceil(ready / batch))
    lane_touch(campaign.pk)
    for _lane in range(lanes):
        enqueue(campaign_send_batch_task, campaign.pk)
    return lanes


def _move(campaign: Campaign, *, allowed: tuple, to: CampaignStatus, message: str, **fields: object) -> None:
    updated = Campaign.objects.filter(pk=campaign.pk, status__in=allowed).update(status=to, **fields)
    if not updated:
        raise ValidationError(message)
    campaign.status = to
    for name, value in fields.items():
        setattr(campaign, name, value)


def campaign_pause(*, campaign: Campaign, actor: AbstractBaseUser | None, reason: str = "") -> None:
    """Workers stop claiming (the rows stay queued); batches already claimed finish their current message.
    An automation's campaign sends from "draft" (it is never started), so it can be paused from there too."""
    _move(
        campaign,
        allowed=(CampaignStatus.SENDING, CampaignStatus.DRAFT)
        if campaign.kind == CampaignKind.AUTOMATION
        else (CampaignStatus.SENDING,),
        to=CampaignStatus.PAUSED,
        message=_("Only a campaign that is sending can be paused."),
        status_reason=reason[:255],
    )


@transaction.atomic
def campaign_resume(*, campaign: Campaign, actor: AbstractBaseUser | None) -> None:
    """Sending again from the rows: what was sent stays sent, the queued rest goes out."""
    _move(
        campaign,
        allowed=(CampaignStatus.PAUSED,),
        to=CampaignStatus.SENDING,
        message=_("Only a paused campaign can be resumed."),
        status_reason="",
        resumed_at=timezone.now(),
    )
    campaign_dispatch(campaign=campaign)


@transaction.atomic
def campaign_cancel(*, campaign: Campaign, actor: AbstractBaseUser | None) -> int:
    """Stops for good: every row still queued is skipped (cancelled). Returns how many."""
    _move(
        campaign,
        allowed=(CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.SENDING, CampaignStatus.PAUSED),
        to=CampaignStatus.CANCELLED,
        message=_("This campaign can no longer be cancelled."),
        finished_at=timezone.now(),
    )
    return Message.objects.filter(campaign=campaign, status=MessageStatus.QUEUED).update(
        status=MessageStatus.SKIPPED, skip_reason=SkipReason.CANCELLED
    )


def progress(*, campaign: Campaign) -> dict:
    """Rows by status for the progress bar: every MessageStatus value, "total", "pending" (queued or being
    sent), "waiting" (queued for an A/B winner) and "percent" done."""
    counts = {status.value: 0 for status in MessageStatus}
    for row in Message.objects.filter(campaign=campaign).values("status").annotate(n=Count("pk")).order_by():
        counts[row["status"]] = row["n"]
    total = sum(counts.values())
    pending = counts[MessageStatus.QUEUED] + counts[MessageStatus.SENDING]
    waiting = (
        Message.objects.filter(campaign=campaign, status=MessageStatus.QUEUED, variant__isnull=True).count()
        if campaign.variants.count() > 1
        else 0
    )
    percent = 100 if not total else math.floor(100 * (total - pending) / total)
    return {**counts, "total": total, "pending": pending, "waiting": waiting, "percent": percent}


def messages_sweep() -> dict:
    """The beat job, for claims whose lease ran out (their worker died): see `claims_expire`. Then a campaign
    whose lanes went quiet with rows ready is dispatched again, and one with nothing left to send is finished."""
    unknown, requeued = claims_expire(now=timezone.now())
    # A lost claim of a campaign cancelled meanwhile is not queued again: it is cancelled too.
    Message.objects.filter(campaign__status=CampaignStatus.CANCELLED, status=MessageStatus.QUEUED).update(
        status=MessageStatus.SKIPPED, skip_reason=SkipReason.CANCELLED
    )
    dispatched = finished = 0
    active = Campaign.objects.filter(status=CampaignStatus.SENDING) | Campaign.objects.filter(
        kind=CampaignKind.AUTOMATION
    ).exclude(status__in=(CampaignStatus.PAUSED, CampaignStatus.CANCELLED))
    for campaign in active:
        if campaign_finish_if_done(campaign_id=campaign.pk):
            finished += 1
        elif not cache.get(LANE_KEY.format(campaign.pk)):
            with transaction.atomic():
                dispatched += bool(campaign_dispatch(campaign=campaign))
    return {"unknown": unknown, "requeued": requeued, "dispatched": dispatched, "finished": finished}


@transaction.atomic
def claims_expire(*, now: datetime.datetime) -> tuple[int, int]:
    """Settle the rows of claims still "sending" after their lease (their worker died). A row is marked handed
    (committed) before it goes to the provider (records.py): those may have reached it and become "unknown"
    (shown, never sent again blindly); the others certainly did not and are queued again. A live worker hands
    nothing over past half its lease, so it never races this. Returns (unknown, queued again)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH lost AS (
                SELECT id FROM marketing_message WHERE status = %s AND lease_until < %s FOR UPDATE SKIP LOCKED
            )
            UPDATE marketing_message m
            SET status = CASE WHEN m.handed_at IS NULL THEN %s ELSE %s END,
                error = CASE WHEN m.handed_at IS NULL THEN '' ELSE %s END,
                lease_until = CASE WHEN m.handed_at IS NULL THEN NULL ELSE m.lease_until END
            FROM lost WHERE m.id = lost.id
            RETURNING m.status
            """,
            [
                MessageStatus.SENDING,
                now,
                MessageStatus.QUEUED,
                MessageStatus.UNKNOWN,
                _("The worker was lost while sending."),
            ],
        )
        statuses = [status for (status,) in cursor.fetchall()]
    return statuses.count(MessageStatus.UNKNOWN), statuses.count(MessageStatus.QUEUED)

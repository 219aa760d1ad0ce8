"""Writing the rows before anything is sent: a campaign's frozen membership, an automation's occasion.

One INSERT ... SELECT per call, ON CONFLICT DO NOTHING on the unique (campaign, member, occasion), so a start
or a prepare that runs twice writes each row once. Every row meets the guardrails (consent, address, frequency
cap) as the membership is frozen: a held-out row keeps its would-be reason, any other row failing one is
written skipped with it, the rest queued. Both groups are judged at the same moment, so the results compare
like with like, and a campaign to a whole base skips most of it in this one statement instead of row by row.
A queued row meets the guardrails again when a worker claims it (consent withdrawn since, the cap reached).
"""

import datetime
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketing import channels, templating
from marketing.models import Campaign, CampaignKind, CampaignStatus, MessageStatus, SkipReason
from marketing.selectors import segment_members
from marketing.services.sending import guardrails
from marketing.services.sending.draws import CONTROL, TEST, VARIANT, draw_sql
from marketing.services.sending.lifecycle import campaign_dispatch


def _check_ready(campaign: Campaign) -> list[int]:
    """The variant ids (by label) of a campaign that can be sent, or ValidationError saying what is missing."""
    if campaign.channel not in channels.registered():
        raise ValidationError(_("Messages cannot be sent by this channel yet."))
    offer = campaign.offer
    if offer is not None and (not offer.active or (offer.valid_to and offer.valid_to < timezone.localdate())):
        raise ValidationError(_("The campaign's coupon offer is switched off or has ended."))
    variants = list(campaign.variants.prefetch_related("templates").order_by("label"))
    if not 1 <= len(variants) <= 4:
        raise ValidationError(_("A campaign needs one to four variants."))
    for variant in variants:
        templates = list(variant.templates.all())
        if not templates:
            raise ValidationError(_("Variant %(label)s has no template.") % {"label": variant.label})
        for template in templates:
            for source in (template.subject, template.body, template.html):
                try:
                    templating.check(source)
                except templating.TemplateError as error:
                    raise ValidationError(
                        _("Variant %(label)s (%(language)s): %(error)s")
                        % {"label": variant.label, "language": template.language, "error": error}
                    ) from None
    return [variant.pk for variant in variants]


def _insert(
    campaign: Campaign, variant_ids: list[int], members: tuple[str, list], occasion: str, test_percent: int
) -> int:
    now = timezone.now()
    held = f"({draw_sql(CONTROL, campaign.pk)} %% 100 < {int(campaign.control_percent)})"
    if len(variant_ids) == 1:
        variant = str(int(variant_ids[0]))
    else:
        array = ", ".join(str(int(pk)) for pk in variant_ids)
        variant = (
            f"CASE WHEN {draw_sql(TEST, campaign.pk)} %% 100 < {int(test_percent)} "
            f"THEN (ARRAY[{array}])[{draw_sql(VARIANT, campaign.pk)} %% {len(variant_ids)} + 1] END"
        )
    reason, reason_params = guardrails.reason_sql(campaign.channel, now)
    members_sql, members_params = members
    sql = f"""
        INSERT INTO marketing_message (campaign_id, customer_id, occasion, variant_id, status, skip_reason, error,
                                       address, language, provider_id, created_at)
        SELECT {int(campaign.pk)}, cu.id, %s,
               CASE WHEN d.held OR r.reason <> '' THEN NULL ELSE {variant} END,
               CASE WHEN d.held THEN '{MessageStatus.HELD_OUT}'
                    WHEN r.reason <> '' THEN '{MessageStatus.SKIPPED}'
                    ELSE '{MessageStatus.QUEUED}' END,
               r.reason,
               '', '', '', '', %s
        FROM customers_customer cu
        CROSS JOIN LATERAL (SELECT {held} AS held) d
        CROSS JOIN LATERAL (SELECT {reason} AS reason) r
        WHERE cu.id IN ({members_sql}) AND cu.erased_at IS NULL
        ON CONFLICT (campaign_id, customer_id, occasion) DO NOTHING
    """  # noqa: S608 -- only our constants and model field names are formatted in
    with connection.cursor() as cursor:
        cursor.execute(sql, [occasion, now, *reason_params, *members_params])
        return cursor.rowcount


def campaign_schedule(*, campaign: Campaign, send_at: datetime.datetime, actor: AbstractBaseUser | None) -> None:
    """A draft waits for `send_at`; the beat job starts it then (campaigns_start_due)."""
    _check_ready(campaign)
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
            raise ValidationError(_("Only a draft can be scheduled."))
        Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SCHEDULED, send_at=send_at)
    campaign.status, campaign.send_at = CampaignStatus.SCHEDULED, send_at


def campaign_start(*, campaign: Campaign, actor: AbstractBaseUser | None) -> None:
    """Freeze the segment's members into rows (held out, or queued with their A/B variant or none yet), mark
    the campaign sending, and queue the batches once committed. Starting twice is refused, writes nothing."""
    if campaign.kind != CampaignKind.ONE_OFF or campaign.segment_id is None:
        raise ValidationError(_("Only a campaign with a segment can be started."))
    variant_ids = _check_ready(campaign)
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
            raise ValidationError(_("This campaign has already been started."))
        members = segment_members(locked.segment).order_by().values("pk").query.sql_with_params()
        _insert(locked, variant_ids, members, "", locked.test_percent)
        now = timezone.now()
        Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING, started_at=now, status_reason="")
        locked.status = CampaignStatus.SENDING
        campaign_dispatch(campaign=locked)
    campaign.status, campaign.started_at = CampaignStatus.SENDING, now


def campaigns_start_due(*, now: datetime.datetime | None = None) -> int:
    """Start the scheduled campaigns whose time has come (the beat job). Each start locks and checks its
    campaign, so overlapping runs start it once."""
    started = 0
    due = Campaign.objects.filter(status=CampaignStatus.SCHEDULED, send_at__lte=now or timezone.now())
    for campaign in due.order_by("send_at"):
        try:
            campaign_start(campaign=campaign, actor=None)
            started += 1
        except ValidationError as error:
            # Back to a draft, with why it did not go out shown on the campaign.
            Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SCHEDULED).update(
                status=CampaignStatus.DRAFT, status_reason=" ".join(error.messages)[:255]
            )
    return started


def messages_prepare(*, campaign: Campaign, customer_ids: Iterable[int], occasion: str) -> int:
    """An automation's rows for one occasion ("birthday:2027"): once per member however often it runs, with
    the campaign's control draw; the variants split everyone not held out. Queues the batches. Returns how
    many rows this call wrote."""
    ids = sorted({int(pk) for pk in customer_ids})
    if not ids:
        return 0
    variant_ids = _check_ready(campaign)
    with transaction.atomic():
        written = _insert(campaign, variant_ids, ("SELECT unnest(%s::bigint[])", [ids]), occasion, 100)
        campaign_dispatch(campaign=campaign)
    return written


def audience_preview(*, campaign: Campaign) -> dict:
    """As of now: how many members the segment holds, how many would be held out, sent, and skipped (by reason,
    among those not held out). Runs the guardrails' SQL over the members; sends and writes nothing."""
    counts = {"members": 0, "held_out": 0, "would_send": 0, "skipped": {reason: 0 for reason in SkipReason}}
    if campaign.segment_id is None:
        return counts
    now = timezone.now()
    held = f"({draw_sql(CONTROL, campaign.pk)} %% 100 < {int(campaign.control_percent)})"
    reason, reason_params = guardrails.reason_sql(campaign.channel, now)
    members_sql, members_params = segment_members(campaign.segment).order_by().values("pk").query.sql_with_params()
    sql = f"""
        SELECT held, reason, count(*) FROM (
            SELECT {held} AS held, {reason} AS reason FROM customers_customer cu WHERE cu.id IN ({members_sql})
        ) t GROUP BY held, reason
    """  # noqa: S608 -- only our constants and model field names are formatted in
    with connection.cursor() as cursor:
        cursor.execute(sql, [*reason_params, *members_params])
        for is_held, why, count in cursor.fetchall():
            counts["members"] += count
            if is_held:
                counts["held_out"] += count
            elif why:
                counts["skipped"][why] += count
            else:
                counts["would_send"] += count
    return counts

"""An A/B test's end: the winner is chosen on revenue per member or conversion with a significance test
(marketing/stats.py: the best variant against each other one, Holm-corrected), never on opens, and the rest of
the campaign is sent with it.

When no variant beats every other one, the verdict is "no difference" and the rest is sent with variant A,
the first the marketer wrote: the test showed the others no better, and holding the rest back would forgo
what the campaign itself earns against its control group. `Campaign.winner` is then A and `ab_verdict` says
"no_difference", so the page reads "no difference" rather than claiming a winner.
"""

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Count, TextChoices
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketing.models import Campaign, CampaignStatus, CampaignVariant, Message, MessageStatus
from marketing.results import campaign_results
from marketing.services.sending import campaign_dispatch

logger = logging.getLogger(__name__)

# Statuses in which the rest still waits (or, for "sent", the verdict is still worth recording).
DECIDING = [CampaignStatus.SENDING, CampaignStatus.PAUSED, CampaignStatus.SENT]


class AbVerdict(TextChoices):
    # Stored in Campaign.ab_verdict as the value; the page shows the label in the reader's language.
    WINNER = "winner", _("Winner found")
    NO_DIFFERENCE = "no_difference", _("No difference")


def winner_due_at(campaign: Campaign) -> dt.datetime | None:
    if campaign.started_at is None:
        return None
    return campaign.started_at + dt.timedelta(hours=campaign.winner_after_hours)


def campaign_choose_winner(*, campaign: Campaign, now: dt.datetime | None = None) -> CampaignVariant | None:
    """Decide a due A/B test once: record the winner (or "no difference" and variant A), give the rows that
    wait for it that variant, and queue them. Returns the variant the rest gets; None when there is nothing to
    decide (one variant, not due yet, already decided, cancelled). Safe to run twice: the campaign row is locked
    and an existing decision is kept."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        due = winner_due_at(campaign)
        if campaign.winner_id or campaign.ab_verdict or campaign.status not in DECIDING or due is None or due > now:
            return None
        variants = list(campaign.variants.order_by("label"))
        if len(variants) < 2:
            return None
        choice = campaign_results(campaign).ab
        if choice is not None and choice.winner is not None:
            campaign.winner, campaign.ab_verdict = variants[choice.winner], AbVerdict.WINNER
        else:
            campaign.winner, campaign.ab_verdict = variants[0], AbVerdict.NO_DIFFERENCE
        campaign.full_clean()
        campaign.save(update_fields=["winner", "ab_verdict"])
        waiting = Message.objects.filter(campaign=campaign, status=MessageStatus.QUEUED, variant__isnull=True)
        given = waiting.update(variant=campaign.winner)
        logger.info(
            "A/B test of campaign %s: %s, variant %s for %s waiting rows",
            campaign.pk,
            campaign.ab_verdict,
            campaign.winner.label,
            given,
        )
        # A paused campaign's rows go when it is resumed (resuming dispatches the queued rows).
        if given and campaign.status == CampaignStatus.SENDING:
            _dispatch(campaign)
    return campaign.winner


def _dispatch(campaign: Campaign) -> None:
    # The engine queues the batch tasks after this transaction commits.
    campaign_dispatch(campaign=campaign)


def campaigns_due_for_winner(now: dt.datetime | None = None) -> list[Campaign]:
    """A/B campaigns whose test time is over and whose winner is not chosen yet."""
    now = now or timezone.now()
    candidates = (
        Campaign.objects.filter(status__in=DECIDING, winner__isnull=True, ab_verdict="", started_at__lte=now)
        .annotate(variant_count=Count("variants"))
        .filter(variant_count__gte=2)
    )
    return [c for c in candidates if winner_due_at(c) <= now]


def campaign_winners_choose(*, now: dt.datetime | None = None) -> int:
    """The beat job: decide every due test, each in its own transaction. Returns how many were decided."""
    return sum(campaign_choose_winner(campaign=c, now=now) is not None for c in campaigns_due_for_winner(now))

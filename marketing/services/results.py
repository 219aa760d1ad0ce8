"""Keeping campaigns' results snapshots (marketing/models/results.py) current, for the results page."""

import datetime as dt
import logging
import time

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from marketing.models import Campaign, CampaignKind, CampaignStatus, ResultsSnapshot
from marketing.results import results_figures, snapshot_final

logger = logging.getLogger(__name__)

# Campaigns whose figures can change: still sending, or sent with purchases still coming into the window.
COUNTED = [CampaignStatus.SENDING, CampaignStatus.PAUSED, CampaignStatus.SENT, CampaignStatus.CANCELLED]
# A snapshot younger than this is left alone (the beat job runs every 5 minutes).
REFRESH_AFTER = dt.timedelta(minutes=4)


def results_refresh(*, campaign: Campaign) -> ResultsSnapshot:
    """Count the campaign's results now and keep them."""
    started = time.perf_counter()
    figures = results_figures(campaign)
    with transaction.atomic():
        snapshot, _ = ResultsSnapshot.objects.update_or_create(
            campaign=campaign,
            defaults={
                "figures": figures,
                "computed_at": timezone.now(),
                "seconds": round(time.perf_counter() - started, 3),
            },
        )
    return snapshot


def results_refresh_due(*, now: dt.datetime | None = None) -> int:
    """The beat job: recount every started campaign and every automation whose snapshot is missing, or older than
    REFRESH_AFTER and not final. Returns how many were counted."""
    now = now or timezone.now()
    # An automation's rows arrive whatever its status says (its occasions bring them), so it is always counted.
    counted_kinds = Q(status__in=COUNTED, started_at__isnull=False) | Q(kind=CampaignKind.AUTOMATION)
    campaigns = Campaign.objects.filter(counted_kinds).select_related("results_snapshot")
    counted = 0
    for campaign in campaigns:
        snapshot = getattr(campaign, "results_snapshot", None)
        if snapshot is not None and (snapshot.computed_at > now - REFRESH_AFTER or snapshot_final(snapshot, campaign)):
            continue
        results_refresh(campaign=campaign)
        counted += 1
    if counted:
        logger.info("Results counted for %s campaigns", counted)
    return counted

"""The campaign and automation leaderboard: every started campaign and automation ranked by its revenue lift
against its control group, with the 95% interval, the group sizes and revenue per recipient on each side.

The figures are each campaign's results snapshot (ResultsSnapshot, counted every 5 minutes by the results
beat job) worked out by results_from(), the same code as the campaign's results page, so a campaign reads the
same here as there. Never a live count: one campaign's count reads all its message rows (seconds at 1,000,000
recipients), so a page listing hundreds would take minutes. One without a snapshot shows as not counted yet.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from marketing import stats
from marketing.models import Campaign, CampaignKind
from marketing.results import Figures, revenue_lift, tally
from marketing.services.results import COUNTED


@dataclass(frozen=True)
class Entry:
    campaign: Campaign
    counted_at: datetime | None = None  # none: not counted yet
    treatment: Figures | None = None
    control: Figures | None = None
    lift: stats.Lift | None = None  # revenue per recipient, when there is a control group

    @property
    def has_control(self) -> bool:
        return self.campaign.control_percent > 0

    @property
    def ranked(self) -> bool:
        return self.lift is not None and self.lift.relative is not None

    def note(self) -> str:
        if self.counted_at is None:
            return _("Not counted yet.")
        if not self.has_control:
            return _("No control group: its lift cannot be measured.")
        if not self.ranked:
            return _("The control group bought nothing yet: no relative lift.")
        return ""


def leaderboard_campaigns(*, kind: str = "") -> QuerySet[Campaign]:
    """Campaigns that started, and automations that run or ran (the others are switched-off presets), with
    their snapshot: one query whatever their number."""
    started = Q(kind=CampaignKind.ONE_OFF, status__in=COUNTED, started_at__isnull=False)
    automations = Q(kind=CampaignKind.AUTOMATION) & (Q(results_snapshot__isnull=False) | Q(automation__enabled=True))
    campaigns = Campaign.objects.filter(started | automations)
    if kind:
        campaigns = campaigns.filter(kind=kind)
    shown = ["name", "kind", "control_percent", "started_at", "results_snapshot__figures"]
    return campaigns.select_related("results_snapshot").only(*shown, "results_snapshot__computed_at")


def leaderboard(*, kind: str = "") -> list[Entry]:
    """Ranked by relative revenue lift, best first; those without one after, newest first. Only the groups and
    the revenue lift are worked out (the page's other statistics cost milliseconds each, times every campaign)."""
    entries = []
    for campaign in leaderboard_campaigns(kind=kind).order_by("-started_at", "-pk"):
        snapshot = getattr(campaign, "results_snapshot", None)
        if snapshot is None:
            entries.append(Entry(campaign))
            continue
        t = tally(snapshot.figures)
        lift = revenue_lift(campaign, t.treatment, t.control)
        entries.append(Entry(campaign, snapshot.computed_at, t.treatment, t.control, lift))
    entries.sort(key=lambda e: (not e.ranked, -e.lift.relative if e.ranked else 0))
    return entries

"""The campaign and automation leaderboard: every started campaign and automation ranked by its revenue lift
against its control group, with the 95% interval, the group sizes and revenue per recipient on each side.

The figures are each campaign's results snapshot (ResultsSnapshot, counted every 5 minutes by the results
beat job) worked out by results_from(), the same code as the campaign's results page, so a campaign reads the
same here as there. Never a live count: one campaign's count reads all its message rows (seconds at 1,000,000
recipients), so a page listing hundreds would take minutes. One without a snapshot shows as not counted yet.
"""

from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from marketing.models import Campaign, CampaignKind, CampaignVariant
from marketing.results import Results, results_from
from marketing.services.results import COUNTED


@dataclass(frozen=True)
class Entry:
    campaign: Campaign
    results: Results | None  # none: not counted yet

    @property
    def lift(self):
        """stats.Lift of revenue per recipient, when there is a control group to compare with."""
        return self.results.revenue if self.results is not None else None

    @property
    def ranked(self) -> bool:
        return self.lift is not None and self.lift.relative is not None

    def note(self) -> str:
        if self.results is None:
            return _("Not counted yet.")
        if not self.results.has_control:
            return _("No control group: its lift cannot be measured.")
        if self.lift is None or self.lift.relative is None:
            return _("The control group bought nothing yet: no relative lift.")
        return ""


def leaderboard_campaigns(*, kind: str = "") -> QuerySet[Campaign]:
    """Campaigns that started, and automations that run or ran (the others are switched-off presets), with
    their snapshot and variants loaded: three queries whatever their number."""
    started = Q(kind=CampaignKind.ONE_OFF, status__in=COUNTED, started_at__isnull=False)
    automations = Q(kind=CampaignKind.AUTOMATION) & (Q(results_snapshot__isnull=False) | Q(automation__enabled=True))
    campaigns = Campaign.objects.filter(started | automations)
    if kind:
        campaigns = campaigns.filter(kind=kind)
    return campaigns.select_related("results_snapshot").prefetch_related(
        Prefetch("variants", queryset=CampaignVariant.objects.order_by("label"))
    )


def leaderboard(*, kind: str = "") -> list[Entry]:
    """Ranked by relative revenue lift, best first; those without one after, newest first."""
    entries = []
    for campaign in leaderboard_campaigns(kind=kind).order_by("-started_at", "-pk"):
        snapshot = getattr(campaign, "results_snapshot", None)
        results = results_from(campaign, snapshot.figures, computed_at=snapshot.computed_at) if snapshot else None
        entries.append(Entry(campaign, results))
    entries.sort(key=lambda e: (not e.ranked, -e.lift.relative if e.ranked else 0))
    return entries

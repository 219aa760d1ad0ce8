"""A campaign's results as last counted, so its page opens at once however many recipients it has.

Counting a campaign reads every one of its message rows and their purchases (marketing/results.py): at
1,000,000 recipients that is seconds, too slow for a page. A beat job counts each campaign whose figures can
still change every few minutes and keeps the raw figures here; the page reads them (and counts live when there
is no recent snapshot). The statistics are worked out from the figures when the page is shown.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from marketing.models.campaigns import Campaign


class ResultsSnapshot(models.Model):
    campaign = models.OneToOneField(
        Campaign,
        verbose_name=_("campaign"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="results_snapshot",
    )
    # marketing.results.results_figures(): the rows by group, what each group bought, coupons redeemed.
    figures = models.JSONField(_("figures"))
    computed_at = models.DateTimeField(_("counted at"))
    seconds = models.FloatField(_("counting took (s)"), default=0)

    class Meta:
        verbose_name = _("results snapshot")
        verbose_name_plural = _("results snapshots")

    def __str__(self):
        return f"{self.campaign_id} @ {self.computed_at:%Y-%m-%d %H:%M}"

"""A segment's figures day by day, so its report can draw size, revenue share and RFM mix over time.

Counting a segment at 1,000,000 members takes a second or two: fine once a night for every segment, too slow
for a page that shows a year of them. The nightly job (marketing.services.reports) keeps one row per segment
and day; the report pages only read these rows.
"""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from marketing.models.segments import Segment


class SegmentSnapshot(models.Model):
    segment = models.ForeignKey(Segment, verbose_name=_("segment"), on_delete=models.CASCADE, related_name="snapshots")
    day = models.DateField(_("day"))
    members = models.PositiveIntegerField(_("members"))
    # The members' PurchaseStats.spend_365d added up: what they paid, less refunds, in the last 365 days.
    revenue_365d = models.DecimalField(_("revenue in the last 365 days"), max_digits=16, decimal_places=2)
    average_value = models.DecimalField(
        _("average value per member"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    # Everyone's revenue over the same 365 days, counted once per run, so each segment's share is of one total.
    total_revenue_365d = models.DecimalField(
        _("everyone's revenue in the last 365 days"), max_digits=16, decimal_places=2
    )
    # [{"value", "label", "count"}] from crm.breakdowns "rfm", in its order; empty when no RFM scores exist.
    # A list (jsonb reorders an object's keys), and the label in English: the page translates it when shown.
    rfm_mix = models.JSONField(_("RFM mix"), default=list, blank=True)
    computed_at = models.DateTimeField(_("counted at"))

    class Meta:
        ordering = ["segment", "-day"]
        verbose_name = _("segment snapshot")
        verbose_name_plural = _("segment snapshots")
        constraints = [models.UniqueConstraint(fields=["segment", "day"], name="segment_snapshot_day_unique")]

    def __str__(self):
        return f"{self.segment_id} @ {self.day}"

    @property
    def revenue_share(self) -> float | None:
        """The segment's part of everyone's revenue, 0..1; none when nobody bought anything."""
        if not self.total_revenue_365d:
            return None
        return float(self.revenue_365d / self.total_revenue_365d)

    @property
    def revenue_share_percent(self) -> float | None:
        share = self.revenue_share
        return None if share is None else share * 100

    @staticmethod
    def average(revenue: Decimal, members: int) -> Decimal | None:
        return (revenue / members).quantize(Decimal("0.01")) if members else None

"""Per-member purchase facts, kept by the purchase services so segments never scan the purchase table."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.models import Customer


class PurchaseStats(models.Model):
    """What a member's purchase history adds up to (interactions.selectors.PURCHASE_FACTS says how). A member
    with no purchase has no row. The purchase, refund, import and merge services refresh it; the nightly
    reconcile checks every row against the history and repairs what differs."""

    customer = models.OneToOneField(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, primary_key=True, related_name="purchase_stats"
    )
    orders = models.PositiveIntegerField(_("orders"), default=0)
    lifetime_spend = models.DecimalField(_("lifetime spend"), max_digits=14, decimal_places=2, default=0)
    average_order = models.DecimalField(_("average order"), max_digits=14, decimal_places=2, null=True, blank=True)
    first_purchase_at = models.DateTimeField(_("first purchase"), null=True, blank=True)
    last_purchase_at = models.DateTimeField(_("last purchase"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("purchase facts")
        verbose_name_plural = _("purchase facts")
        indexes = [
            models.Index(fields=["lifetime_spend"], name="stats_spend_idx"),
            models.Index(fields=["orders"], name="stats_orders_idx"),
            models.Index(fields=["last_purchase_at"], name="stats_last_purchase_idx"),
            models.Index(fields=["first_purchase_at"], name="stats_first_purchase_idx"),
        ]

    def __str__(self):
        return f"{self.customer_id}: {self.orders} / {self.lifetime_spend}"


class PurchaseStatsCheck(models.Model):
    """One run of the nightly reconcile: how many members it checked and how many rows it had to repair."""

    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    checked = models.PositiveIntegerField(_("members checked"), default=0)
    repaired = models.PositiveIntegerField(_("rows repaired"), default=0)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("purchase facts check")
        verbose_name_plural = _("purchase facts checks")

    def __str__(self):
        return f"{self.started_at:%Y-%m-%d %H:%M}: {self.repaired}/{self.checked}"

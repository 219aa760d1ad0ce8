"""Membership: tiers, the points ledger and tier changes."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models.customers import Customer


class Tier(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True, help_text=_("Higher is better."))
    min_spend = models.DecimalField(_("minimum spend"), max_digits=12, decimal_places=2, default=0)
    points_multiplier = models.DecimalField(_("points multiplier"), max_digits=4, decimal_places=2, default=1)
    benefits = models.TextField(_("benefits"), blank=True)

    class Meta:
        ordering = ["rank"]
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")

    def __str__(self):
        return self.name


class PointsKind(models.TextChoices):
    EARNED = "earned", _("Earned")
    REDEEMED = "redeemed", _("Redeemed")
    EXPIRED = "expired", _("Expired")
    ADJUSTED = "adjusted", _("Adjusted")
    REVERSED = "reversed", _("Reversed")


class PointsEntry(models.Model):
    """One change of a customer's points: the ledger that Customer.points_balance sums up.

    Entries that add points are lots (`remaining`, `expires_on`); spending, reversal
    and expiry take from the oldest lots first, so the lots' remaining always add up
    to the balance.
    """

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="points_entries",
        db_index=False,  # points_customer_idx (customer, -at, -id) serves it
    )
    kind = models.CharField(_("kind"), max_length=10, choices=PointsKind)
    points = models.IntegerField(_("points"))
    balance_after = models.IntegerField(_("balance after"))
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    remaining = models.PositiveIntegerField(_("remaining"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        permissions = [("adjust_points", _("Can adjust a customer's points"))]
        constraints = [
            models.CheckConstraint(condition=models.Q(balance_after__gte=0), name="points_balance_after_not_negative"),
            models.CheckConstraint(
                condition=models.Q(remaining__lte=models.F("points")) | models.Q(remaining=0),
                name="points_remaining_within_lot",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-at", "-id"], name="points_customer_idx"),
            # The daily expiry scans only lots that still hold points.
            models.Index(fields=["expires_on"], condition=models.Q(remaining__gt=0), name="points_open_lots_idx"),
        ]

    def __str__(self):
        return f"{self.customer_id} {self.kind} {self.points:+d}"


class TierChangeKind(models.TextChoices):
    UPGRADE = "upgrade", _("Upgrade")
    DOWNGRADE = "downgrade", _("Downgrade")
    MANUAL = "manual", _("Set by staff")


class TierChange(models.Model):
    """What tier evaluation (or staff) changed, and why."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="tier_changes"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=TierChangeKind)
    from_tier = models.ForeignKey(
        Tier, verbose_name=_("from"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_tier = models.ForeignKey(
        Tier, verbose_name=_("to"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("changed by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        indexes = [models.Index(fields=["customer", "-at"], name="tierchange_customer_idx")]

    def __str__(self):
        return f"{self.customer_id}: {self.from_tier_id} -> {self.to_tier_id}"

"""Membership: tiers, the points ledger and tier changes.

A ledger entry or tier change stores why it happened as a code and its parameters, never as
text: the text is rendered when it is read, in the reader's language (`reason_text`).
"""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crm.lib import crm_number
from customers.models.customers import Customer, NamedInLanguages

# How each kind of parameter reads, so "2100.00" becomes 2,100.00 and a date its local form when shown.
_AMOUNT_PARAMS = {"amount", "spend", "average"}


def _format_param(key: str, value: Any) -> Any:
    try:
        if key in _AMOUNT_PARAMS:
            return number_format(Decimal(str(value)), decimal_pos=2, use_l10n=True, force_grouping=True)
        if key == "date":
            return date_format(datetime.date.fromisoformat(str(value)), "SHORT_DATE_FORMAT")
        if key == "number":
            return crm_number.format_number(value)
    except (InvalidOperation, ValueError, TypeError):
        pass  # a value an old row or a hand edit left malformed is shown as stored
    return value


def render_reason(template: str | Promise, params: dict[str, Any]) -> str:
    """A reason's message template (gettext_lazy, so in the active language) filled with its parameters."""
    try:
        return str(template) % {key: _format_param(key, value) for key, value in params.items()}
    except (KeyError, TypeError, ValueError):
        return str(template)


def coded_reason_text(texts: Mapping[str, str | Promise], code: str | None, params: dict[str, Any]) -> str:
    """A reason stored as a code, in the active language: its message from `texts` filled in, or for a code
    without one (what staff typed, an old text the migration did not recognise) the text as stored."""
    template = texts.get(code)
    return render_reason(template, params) if template is not None else str(params.get("text", ""))


@dataclass(frozen=True)
class Reason:
    """Why a ledger entry or tier change was written: a code and its parameters (what services pass)."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def typed(cls, text: str) -> "Reason":
        """What staff typed, kept as typed."""
        text = str(text or "").strip()[:255]
        return cls("manual", {"text": text} if text else {})


class Tier(NamedInLanguages):
    name = models.CharField(
        _("name"),
        max_length=50,
        unique=True,
        help_text=_("Matched by imports; shown when the tier has no name in the reader's language."),
    )
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True, help_text=_("Higher is better."))
    min_spend = models.DecimalField(_("minimum spend"), max_digits=12, decimal_places=2, default=0)
    points_multiplier = models.DecimalField(_("points multiplier"), max_digits=4, decimal_places=2, default=1)
    benefits = models.TextField(_("benefits"), blank=True)

    class Meta:
        ordering = ["rank"]
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")


class PointsKind(models.TextChoices):
    EARNED = "earned", _("Earned")
    REDEEMED = "redeemed", _("Redeemed")
    EXPIRED = "expired", _("Expired")
    ADJUSTED = "adjusted", _("Adjusted")
    REVERSED = "reversed", _("Reversed")


class PointsReason(models.TextChoices):
    MANUAL = "manual", _("Typed by staff")
    PURCHASE = "purchase", _("Points of a purchase")
    PURCHASE_EXPIRED = "purchase_expired", _("Points of a purchase expired")
    EXPIRED = "expired", _("Points expired")
    REFUND = "refund", _("Refund")
    MERGED = "merged", _("Merge")
    REWARD = "reward", _("Reward exchange")


POINTS_REASON_TEXTS = {
    PointsReason.PURCHASE: _("Purchase #%(id)s"),
    PointsReason.PURCHASE_EXPIRED: _("Points of purchase #%(id)s expired"),
    PointsReason.EXPIRED: _("Points earned before %(date)s expired"),
    PointsReason.REFUND: _("Refund of %(amount)s on purchase #%(id)s"),
    PointsReason.MERGED: _("Merged with %(number)s (+%(points)s points)"),
    PointsReason.REWARD: _("Exchanged for %(item)s"),
}


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
    reason_code = models.CharField(_("reason"), max_length=20, choices=PointsReason, default=PointsReason.MANUAL)
    # The reason's parameters: {"id": 17958} for a purchase, {"text": ...} for what staff typed; a reversal
    # that could not take everything back adds {"done": 50, "asked": 80}.
    reason_params = models.JSONField(_("reason details"), default=dict, blank=True)
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

    @property
    def reason_text(self) -> str:
        """Why, in the active language."""
        params = self.reason_params or {}
        text = coded_reason_text(POINTS_REASON_TEXTS, self.reason_code, params)
        if params.get("note"):
            text = f"{text}: {params['note']}"
        if "done" in params and "asked" in params:
            text = render_reason(
                _("%(reason)s (reversed %(done)s of %(asked)s points; the rest were already used)"),
                {"reason": text, "done": params["done"], "asked": params["asked"]},
            )
        return text


class TierChangeKind(models.TextChoices):
    UPGRADE = "upgrade", _("Upgrade")
    DOWNGRADE = "downgrade", _("Downgrade")
    MANUAL = "manual", _("Set by staff")


class TierChangeReason(models.TextChoices):
    MANUAL = "manual", _("Typed by staff")
    SPEND = "spend", _("Spend in the window")
    MERGED = "merged", _("Merge")
    REWARD = "reward", _("Reward exchange")


TIER_REASON_TEXTS = {
    TierChangeReason.SPEND: _("Spend %(spend)s in the last %(days)s days"),
    TierChangeReason.MERGED: _("Merged with %(number)s"),
}


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
    reason_code = models.CharField(
        _("reason"), max_length=20, choices=TierChangeReason, default=TierChangeReason.MANUAL
    )
    reason_params = models.JSONField(_("reason details"), default=dict, blank=True)
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

    @property
    def reason_text(self) -> str:
        """Why, in the active language."""
        return coded_reason_text(TIER_REASON_TEXTS, self.reason_code, self.reason_params or {})

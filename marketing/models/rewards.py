"""The rewards catalogue (积分商城): items priced in points, a coupon offer or a gift in stock."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.lib.text import validate_single_line
from customers.models import Customer, PointsEntry
from marketing.models.coupons import Coupon, CouponOffer


class RewardKind(models.TextChoices):
    COUPON = "coupon", _("Coupon")
    GIFT = "gift", _("Gift")


class RewardItem(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True, validators=[validate_single_line])
    description = models.CharField(_("details"), max_length=255, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=RewardKind, default=RewardKind.GIFT)
    offer = models.ForeignKey(
        CouponOffer, verbose_name=_("coupon offer"), on_delete=models.PROTECT, null=True, blank=True
    )
    points_price = models.PositiveIntegerField(_("points"), validators=[MinValueValidator(1)])
    stock = models.PositiveIntegerField(_("in stock"), null=True, blank=True, help_text=_("Empty: no limit."))
    valid_from = models.DateField(_("available from"), null=True, blank=True)
    valid_to = models.DateField(_("available until"), null=True, blank=True)
    active = models.BooleanField(_("offered"), default=True)

    class Meta:
        ordering = ["points_price", "name"]
        verbose_name = _("reward")
        verbose_name_plural = _("rewards catalogue")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="coupon", offer__isnull=False) | models.Q(kind="gift", offer__isnull=True),
                name="reward_coupon_has_offer",
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.kind == RewardKind.COUPON and self.offer_id is None:
            raise ValidationError({"offer": _("A coupon reward names the offer it issues.")})
        if self.kind == RewardKind.GIFT and self.offer_id is not None:
            raise ValidationError({"offer": _("A gift issues no coupon: leave the offer empty.")})


class RewardExchange(models.Model):
    """Points a member exchanged for an item: the ledger entry, the coupon it issued, who did it."""

    item = models.ForeignKey(RewardItem, verbose_name=_("reward"), on_delete=models.PROTECT, related_name="exchanges")
    customer = models.ForeignKey(
        Customer, verbose_name=_("member"), on_delete=models.CASCADE, related_name="reward_exchanges"
    )
    points = models.PositiveIntegerField(_("points"))
    points_entry = models.ForeignKey(
        PointsEntry, verbose_name=_("points entry"), on_delete=models.SET_NULL, null=True, blank=True
    )
    coupon = models.OneToOneField(
        Coupon, verbose_name=_("coupon"), on_delete=models.SET_NULL, null=True, blank=True, related_name="exchange"
    )
    at = models.DateTimeField(_("when"), auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("handled by"), on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("reward exchange")
        verbose_name_plural = _("reward exchanges")
        indexes = [models.Index(fields=["customer", "-at"], name="reward_exchange_customer_idx")]

    def __str__(self):
        return f"{self.customer_id}: {self.item_id}"

"""Coupon offers and the coupons issued from them, each bound to one member."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.lib import coupon_code
from crm.lib.text import validate_single_line
from customers.models import Category, Customer
from interactions.models import Product, Transaction


class DiscountKind(models.TextChoices):
    PERCENT = "percent", _("Percentage off")
    AMOUNT = "amount", _("Amount off")


class CouponOffer(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True, validators=[validate_single_line])
    description = models.CharField(_("terms"), max_length=255, blank=True, validators=[validate_single_line])
    kind = models.CharField(_("discount"), max_length=10, choices=DiscountKind, default=DiscountKind.AMOUNT)
    value = models.DecimalField(
        _("value"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("The percentage, or the amount off."),
    )
    min_spend = models.DecimalField(
        pgettext_lazy("coupon", "minimum spend"),
        max_digits=12,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid until"), null=True, blank=True)
    valid_days = models.PositiveSmallIntegerField(
        _("valid for days after issue"), null=True, blank=True, help_text=_("Leave empty to use the dates.")
    )
    per_member_limit = models.PositiveSmallIntegerField(_("coupons per member"), default=1)
    max_issued = models.PositiveIntegerField(_("most coupons issued"), null=True, blank=True)
    issued_count = models.PositiveIntegerField(_("issued"), default=0, editable=False)
    products = models.ManyToManyField(Product, verbose_name=_("only these products"), blank=True)
    categories = models.ManyToManyField(Category, verbose_name=_("only these categories"), blank=True)
    active = models.BooleanField(_("can be issued"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("coupon offer")
        verbose_name_plural = _("coupon offers")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="percent") | models.Q(value__lte=100), name="offer_percent_at_most_100"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_from__isnull=True)
                | models.Q(valid_to__gte=models.F("valid_from")),
                name="offer_dates_in_order",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("marketing:offer_detail", args=[self.pk])

    def clean(self):
        errors = {}
        if self.kind == DiscountKind.PERCENT and self.value and self.value > 100:
            errors["value"] = _("A percentage is at most 100.")
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            errors["valid_to"] = _("The offer must end on or after the day it starts.")
        if errors:
            raise ValidationError(errors)

    def validity_for(self, issued_on: datetime.date) -> tuple[datetime.date, datetime.date | None]:
        """When a coupon issued on this day may be used: from the offer's start (or the issue day), until the
        issue day plus the offer's days, or the offer's end."""
        start = max(filter(None, [self.valid_from, issued_on]))
        if self.valid_days:
            end = issued_on + datetime.timedelta(days=self.valid_days)
            return start, min(filter(None, [end, self.valid_to]))
        return start, self.valid_to

    def discount_on(self, amount: Decimal) -> Decimal:
        if self.kind == DiscountKind.PERCENT:
            return (amount * self.value / 100).quantize(Decimal("0.01"))
        return min(self.value, amount)


class CouponStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    REDEEMED = "redeemed", pgettext_lazy("coupons", "Redeemed")
    VOID = "void", _("Withdrawn")


class Coupon(models.Model):
    offer = models.ForeignKey(CouponOffer, verbose_name=_("offer"), on_delete=models.PROTECT, related_name="coupons")
    customer = models.ForeignKey(Customer, verbose_name=_("member"), on_delete=models.CASCADE, related_name="coupons")
    code = models.CharField(_("code"), max_length=12, unique=True, editable=False)
    # Why it was issued ("manual:<id>", "segment:<id>", later "campaign:<id>"): one coupon per offer, member and
    # occasion, so issuing to a segment again issues nothing twice.
    occasion = models.CharField(_("occasion"), max_length=60, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=CouponStatus, default=CouponStatus.ISSUED)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    issued_at = models.DateTimeField(_("issued"), auto_now_add=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("issued by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    redeemed_at = models.DateTimeField(_("redeemed"), null=True, blank=True)
    transaction = models.ForeignKey(
        Transaction,
        verbose_name=_("purchase"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="coupons",
    )
    discount = models.DecimalField(_("discount given"), max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        constraints = [
            models.UniqueConstraint(fields=["offer", "customer", "occasion"], name="coupon_once_per_occasion"),
        ]
        indexes = [
            models.Index(fields=["customer", "-issued_at"], name="coupon_customer_idx"),
            models.Index(fields=["offer", "status"], name="coupon_offer_status_idx"),
        ]

    def __str__(self):
        return self.code_display

    @property
    def code_display(self) -> str:
        return coupon_code.display(self.code)

"""Products, purchases and their lines."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.lib.text import validate_single_line
from customers.models import Category, Customer, coded_reason_text


def default_currency() -> str:
    # A callable, so migrations do not freeze the currency of the machine that made them.
    return settings.CRM_CURRENCY


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=40, unique=True, validators=[validate_single_line])
    name = models.CharField(_("name"), max_length=150, validators=[validate_single_line])
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, null=True, blank=True, related_name="products"
    )
    price = models.DecimalField(
        _("price"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    active = models.BooleanField(pgettext_lazy("product", "active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [models.CheckConstraint(condition=models.Q(price__gte=0), name="product_price_not_negative")]

    def __str__(self):
        return f"{self.name} ({self.sku})"


class Channel(models.TextChoices):
    STORE = "store", _("Store")
    ONLINE = "online", _("Online shop")
    APP = "app", _("App")
    PHONE = "phone", _("Phone order")


class TransactionStatus(models.TextChoices):
    COMPLETED = "completed", _("Completed")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")


class TransactionSource(models.TextChoices):
    STAFF = "staff", _("Staff")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    DEMO = "demo", _("Demo data")


class FlagReason(models.TextChoices):
    LARGE_AMOUNT = "large_amount", _("Far above the usual order")
    BURST = "burst", _("Many purchases in a short time")
    OTHER = "other", _("Other")


FLAG_REASON_TEXTS = {
    FlagReason.LARGE_AMOUNT: _("Amount is over %(factor)s× the customer's average order of %(average)s"),
    FlagReason.BURST: _("%(count)s purchases within %(minutes)s minutes"),
}


def validate_flag_reasons(value) -> None:
    """[{"code": FlagReason, "params": {...}}, ...]: what the shape of flag_reasons must be."""
    if not isinstance(value, list) or not all(
        isinstance(item, dict) and item.get("code") in FlagReason.values and isinstance(item.get("params", {}), dict)
        for item in value
    ):
        raise ValidationError(_("Each flag reason needs a known code and its details."), code="invalid")


class Transaction(models.Model):
    """A purchase. Amounts are what the customer paid; refunds reduce it through refunded_amount."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="transactions",
        db_index=False,  # transaction_customer_idx (customer, -occurred_at) serves it
    )
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel, default=Channel.STORE)
    store = models.CharField(_("store"), max_length=100, blank=True, validators=[validate_single_line])
    amount = models.DecimalField(
        _("amount"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    currency = models.CharField(_("currency"), max_length=3, default=default_currency)
    status = models.CharField(
        _("status"), max_length=20, choices=TransactionStatus, default=TransactionStatus.COMPLETED
    )
    refunded_amount = models.DecimalField(_("refunded amount"), max_digits=12, decimal_places=2, default=0)
    source = models.CharField(_("source"), max_length=10, choices=TransactionSource, default=TransactionSource.STAFF)
    external_ref = models.CharField(
        _("external reference"),
        max_length=64,
        blank=True,
        help_text=_("The order number in the source system."),
        validators=[validate_single_line],
    )
    points_earned = models.PositiveIntegerField(_("points earned"), default=0)
    points_reversed = models.PositiveIntegerField(_("points reversed"), default=0)
    coupon_code = models.CharField(_("coupon code"), max_length=40, blank=True, validators=[validate_single_line])
    # What the coupon took off: `amount` is what was paid, so the price before it was amount + discount.
    discount = models.DecimalField(_("coupon discount"), max_digits=12, decimal_places=2, default=0)
    flagged = models.BooleanField(_("flagged"), default=False)
    # Why it was flagged, as codes with their parameters (rendered in the reader's language by flag_reason_text).
    flag_reasons = models.JSONField(_("why flagged"), default=list, blank=True, validators=[validate_flag_reasons])
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("transaction")
        verbose_name_plural = _("transactions")
        permissions = [("refund_transaction", _("Can refund a purchase"))]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="transaction_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(refunded_amount__gte=0, refunded_amount__lte=models.F("amount")),
                name="transaction_refund_within_amount",
            ),
            # The same order from the same source (an import run twice, a retried API call) is stored once.
            models.UniqueConstraint(
                fields=["source", "external_ref"],
                condition=~models.Q(external_ref=""),
                name="transaction_source_ref_unique",
                violation_error_message=_("This order has already been recorded."),
            ),
        ]
        indexes = [
            # Covers what scoring reads per member (analytics/frames.py), so a chunk of members' purchases is read
            # from the index alone instead of from heap pages scattered over the whole table (0.7 s -> 0.1 s a chunk).
            models.Index(
                fields=["customer", "-occurred_at"],
                name="transaction_customer_idx",
                include=["amount", "refunded_amount", "status"],
            ),
            models.Index(fields=["occurred_at"], name="transaction_occurred_idx"),
            models.Index(fields=["flagged"], condition=models.Q(flagged=True), name="transaction_flagged_idx"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.amount} {self.currency}"

    @property
    def net_amount(self) -> Decimal:
        return self.amount - self.refunded_amount

    @property
    def flag_reason_text(self) -> str:
        """Why it was flagged, in the active language."""
        return "; ".join(
            coded_reason_text(FLAG_REASON_TEXTS, item.get("code"), item.get("params") or {})
            for item in self.flag_reasons or []
        )


class TransactionLine(models.Model):
    transaction = models.ForeignKey(
        Transaction, verbose_name=_("transaction"), on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, null=True, blank=True, related_name="lines"
    )
    description = models.CharField(_("description"), max_length=200, blank=True, validators=[validate_single_line])
    quantity = models.PositiveIntegerField(_("quantity"), default=1, validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(
        _("unit price"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    line_total = models.DecimalField(_("line total"), max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["id"]
        verbose_name = _("transaction line")
        verbose_name_plural = _("transaction lines")
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gte=1), name="line_quantity_positive")]

    def __str__(self):
        return f"{self.quantity} × {self.description or self.product_id}"

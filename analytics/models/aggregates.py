"""Pre-aggregated tables the dashboards and reports read, so no page request scans the purchase table.

Written only by analytics.aggregates (a refresh that is idempotent: it replaces the rows of the days or months
it recomputes). "A purchase" here is a transaction not refunded in full; revenue is what was paid less what was
refunded, counted on the purchase's day.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.models import Category


class AgeBand(models.TextChoices):
    UNDER_25 = "u25", _("Under 25")
    AGE_25_34 = "25-34", "25–34"
    AGE_35_44 = "35-44", "35–44"
    AGE_45_54 = "45-54", "45–54"
    AGE_55_UP = "55+", _("55 and over")
    UNKNOWN = "unknown", _("Age unknown")


class ChurnBand(models.TextChoices):
    LOW = "low", _("Low risk (under 30%)")
    MEDIUM = "medium", _("Medium risk (30–60%)")
    HIGH = "high", _("High risk (60% and over)")
    UNSCORED = "unscored", _("Not scored")


class Dimension(models.TextChoices):
    """What a Distribution row counts members by."""

    TIER = "tier", _("tier")
    RFM = "rfm", _("RFM segment")
    RFM_MOVE = "rfm_move", _("RFM movement since the previous run")
    CHURN = "churn", _("churn risk")
    SOURCE = "source", _("source channel")
    AGE = "age", _("age band")
    GENDER = "gender", _("gender")
    AGE_GENDER = "age_gender", _("age band and gender")


class DailyKpi(models.Model):
    """The business on one day. Every column adds up over days except active_members, a count as of the day."""

    day = models.DateField(_("day"), primary_key=True)
    new_members = models.PositiveIntegerField(_("new members"), default=0)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    # Orders of members who had bought before: the repurchase rate is returning_orders / orders.
    returning_orders = models.PositiveIntegerField(_("orders from returning members"), default=0)
    revenue = models.DecimalField(_("revenue"), max_digits=16, decimal_places=2, default=0)
    refunds = models.DecimalField(_("refunds"), max_digits=16, decimal_places=2, default=0)
    # Members with a purchase in the 90 days ending on this day.
    active_members = models.PositiveIntegerField(_("active members"), default=0)
    points_issued = models.BigIntegerField(_("points issued"), default=0)
    points_redeemed = models.BigIntegerField(_("points redeemed"), default=0)
    coupons_redeemed = models.PositiveIntegerField(_("coupons redeemed"), default=0)
    refreshed_at = models.DateTimeField(_("refreshed"), auto_now=True)

    class Meta:
        verbose_name = _("daily figures")
        verbose_name_plural = _("daily figures")
        permissions = [
            ("view_dashboard", _("Can see the business dashboard")),
            ("view_marketing_reports", _("Can see the marketing reports")),
            ("refresh_aggregates", _("Can refresh the dashboards' figures")),
        ]

    def __str__(self):
        return str(self.day)


class MonthlySales(models.Model):
    """Purchases in a month by the buyer's province, age band and gender, and by category (category empty: whole
    orders). Category rows count order lines: revenue is the order's net amount shared out by its lines' totals
    (a line's total is its price before a coupon)."""

    month = models.DateField(_("month"))  # its first day
    province = models.CharField(_("province"), max_length=50, blank=True)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    age_band = models.CharField(_("age band"), max_length=10, choices=AgeBand)
    gender = models.CharField(_("gender"), max_length=10)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    revenue = models.DecimalField(_("revenue"), max_digits=16, decimal_places=2, default=0)
    buyers = models.PositiveIntegerField(_("buyers"), default=0)  # distinct in this row only: not additive

    class Meta:
        verbose_name = _("monthly sales")
        verbose_name_plural = _("monthly sales")
        indexes = [models.Index(fields=["month", "category"], name="monthly_sales_month_idx")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.province} {self.category_id}"


class MonthlyRegion(models.Model):
    """Members who joined and purchases made in a month, by the member's province and city (blank: not given)."""

    month = models.DateField(_("month"))
    province = models.CharField(_("province"), max_length=50, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    new_members = models.PositiveIntegerField(_("new members"), default=0)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    revenue = models.DecimalField(_("revenue"), max_digits=16, decimal_places=2, default=0)
    buyers = models.PositiveIntegerField(_("buyers"), default=0)  # distinct in this row only: not additive

    class Meta:
        verbose_name = _("monthly region figures")
        verbose_name_plural = _("monthly region figures")
        indexes = [models.Index(fields=["month"], name="monthly_region_month_idx")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.province}/{self.city}"


class CohortCell(models.Model):
    """Members whose first purchase fell in `cohort` (a month) and who bought in the month `offset` months later.
    Offset 0 is the cohort itself: its size and first month's revenue."""

    cohort = models.DateField(_("cohort"))
    offset = models.PositiveSmallIntegerField(_("months after"))
    buyers = models.PositiveIntegerField(_("buyers"), default=0)
    revenue = models.DecimalField(_("revenue"), max_digits=16, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("cohort cell")
        verbose_name_plural = _("cohort cells")
        constraints = [models.UniqueConstraint(fields=["cohort", "offset"], name="cohort_cell_unique")]

    def __str__(self):
        return f"{self.cohort:%Y-%m}+{self.offset}"


class CategoryStats(models.Model):
    """A category over the last 365 days: who bought it, who bought it again."""

    category = models.OneToOneField(
        Category, verbose_name=_("category"), on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    buyers = models.PositiveIntegerField(_("buyers"), default=0)
    repeat_buyers = models.PositiveIntegerField(_("repeat buyers"), default=0)  # in two or more orders
    orders = models.PositiveIntegerField(_("orders"), default=0)
    revenue = models.DecimalField(_("revenue"), max_digits=16, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("category figures")
        verbose_name_plural = _("category figures")

    def __str__(self):
        return str(self.category_id)


class CategoryAffinity(models.Model):
    """Members (last 365 days) who bought both `category` and `other`: what else a category's buyers buy."""

    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(
        Category, verbose_name=pgettext_lazy("category", "also bought"), on_delete=models.CASCADE, related_name="+"
    )
    buyers = models.PositiveIntegerField(_("buyers of both"), default=0)

    class Meta:
        verbose_name = _("category affinity")
        verbose_name_plural = _("category affinities")
        constraints = [models.UniqueConstraint(fields=["category", "other"], name="category_affinity_unique")]

    def __str__(self):
        return f"{self.category_id}+{self.other_id}"


class Distribution(models.Model):
    """Members now, counted by one dimension (key: the dimension's value, "a>b" for a movement, "age|gender")."""

    dimension = models.CharField(_("dimension"), max_length=12, choices=Dimension)
    key = models.CharField(_("value"), max_length=60)
    members = models.PositiveIntegerField(_("members"), default=0)
    spend_365d = models.DecimalField(_("spend in the last 365 days"), max_digits=16, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("distribution")
        verbose_name_plural = _("distributions")
        constraints = [models.UniqueConstraint(fields=["dimension", "key"], name="distribution_unique")]

    def __str__(self):
        return f"{self.dimension}={self.key}"


class Forecast(models.Model):
    """The latest forecast of a monthly series, with its intervals and backtest (analytics.forecast)."""

    metric = models.CharField(_("metric"), max_length=20, primary_key=True)
    made_at = models.DateTimeField(_("made at"), auto_now=True)
    # {"history": [[month, value]], "forecast": [[month, mean, lo80, hi80, lo95, hi95]], "model": str,
    #  "backtest": {"mape", "baseline_mape", "mae", "baseline_mae", "months", "baseline"}, "beats_baseline": bool,
    #  "reason": why there is no forecast (an English msgid)}. MAPE is a share (0.05 is 5%).
    payload = models.JSONField(_("forecast"), default=dict)

    class Meta:
        verbose_name = _("forecast")
        verbose_name_plural = _("forecasts")

    def __str__(self):
        return self.metric


class AggregateState(models.Model):
    """One row: how far the refresh has read, so the next one picks up only what changed since."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    refreshed_at = models.DateTimeField(_("last refreshed"), null=True, blank=True)
    # Rows read up to (ids only grow): purchases, points entries, customers.
    transaction_id = models.BigIntegerField(default=0)
    points_entry_id = models.BigIntegerField(default=0)
    customer_id = models.BigIntegerField(default=0)
    seconds = models.FloatField(_("last refresh took (s)"), default=0)
    # The refresh under way (empty when none): what it is doing and how many of its blocks are done, so a page
    # can show a progress bar. A killed refresh leaves them set until the next one starts.
    started_at = models.DateTimeField(_("refresh started"), null=True, blank=True)
    step = models.CharField(_("refresh step"), max_length=60, blank=True, default="")
    done = models.PositiveIntegerField(_("blocks done"), default=0)
    total = models.PositiveIntegerField(_("blocks to do"), default=0)

    class Meta:
        verbose_name = _("dashboard refresh state")
        verbose_name_plural = _("dashboard refresh state")

    def __str__(self):
        return f"{self.refreshed_at}"


class DirtyDay(models.Model):
    """A day whose figures a change made stale (a refund, a merge): the next refresh recomputes it."""

    day = models.DateField(_("day"), primary_key=True)
    marked_at = models.DateTimeField(_("marked"), auto_now_add=True)

    class Meta:
        verbose_name = _("day to recompute")
        verbose_name_plural = _("days to recompute")

    def __str__(self):
        return str(self.day)

"""Each member's scores: the current ones (one row per member, what pages and segment rules read), the
history (one row per member and run: the snapshots movement between runs is read from), and the current
recommendations. All are written in bulk by the scoring chunks, never one UPDATE per member."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from analytics.models.rfm import SCORE_VALIDATORS, RfmSegment
from analytics.models.runs import ScoringRun
from customers.models import Customer
from interactions.models import Product


class ChurnSource(models.TextChoices):
    """Whose churn probability a member's row holds: the model's, or the better baseline's when the model did not
    beat it on the held-out period (the run's page says so)."""

    MODEL = "model", _("Churn model")
    RECENCY = "recency", _("Days since last purchase (baseline)")
    BGNBD = "bgnbd", _("Probability of being active (baseline)")


class ScoreFields(models.Model):
    """What one run says about one member. RFM fields are empty for a member with no purchase."""

    recency_days = models.PositiveIntegerField(_("days since last purchase"), null=True, blank=True)
    frequency = models.PositiveIntegerField(_("orders in the window"), default=0)
    monetary = models.DecimalField(_("net spend in the window"), max_digits=14, decimal_places=2, default=0)
    r = models.PositiveSmallIntegerField("R", null=True, blank=True, validators=SCORE_VALIDATORS)
    f = models.PositiveSmallIntegerField("F", null=True, blank=True, validators=SCORE_VALIDATORS)
    m = models.PositiveSmallIntegerField("M", null=True, blank=True, validators=SCORE_VALIDATORS)
    segment = models.CharField(_("RFM segment"), max_length=20, choices=RfmSegment, default=RfmSegment.NO_PURCHASE)
    p_alive = models.FloatField(_("probability of being active"), null=True, blank=True)
    expected_purchases = models.FloatField(_("expected purchases"), null=True, blank=True)
    predicted_value = models.DecimalField(_("predicted value"), max_digits=14, decimal_places=2, null=True, blank=True)
    churn_probability = models.FloatField(_("churn probability"), null=True, blank=True)

    class Meta:
        abstract = True


class MemberScore(ScoreFields):
    customer = models.OneToOneField(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, primary_key=True, related_name="scores"
    )
    run = models.ForeignKey(ScoringRun, verbose_name=_("run"), on_delete=models.PROTECT, related_name="+")
    scored_at = models.DateTimeField(_("scored at"))
    churn_source = models.CharField(_("churn score from"), max_length=10, choices=ChurnSource, blank=True)
    # The features that moved this member's churn probability most: [{"feature", "value", "reference", "effect"}].
    churn_reasons = models.JSONField(_("churn reasons"), default=list, blank=True)

    class Meta:
        verbose_name = _("member score")
        verbose_name_plural = _("member scores")
        # No index on the scores: a segment count joins every member to this table anyway (as to PurchaseStats),
        # and each of a run's million rows would have had four more entries to write.

    def __str__(self):
        return f"{self.customer_id}: {self.segment}"


class ScoreHistory(ScoreFields):
    run = models.ForeignKey(ScoringRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="history")
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="score_history", db_index=False
    )

    class Meta:
        verbose_name = _("score history")
        verbose_name_plural = _("score history")
        # One index serves a member's history, a chunk's rows of a run (a range of members) and the movement join.
        constraints = [models.UniqueConstraint(fields=["customer", "run"], name="score_history_unique")]

    def __str__(self):
        return f"{self.run_id}/{self.customer_id}: {self.segment}"


class MemberRecommendation(models.Model):
    """A product to offer the member, and why: bought together with `because_of` by `together` members, or
    (no `because_of`) among the most bought."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="recommendations", db_index=False
    )
    rank = models.PositiveSmallIntegerField(_("rank"))
    # No index on the other keys: each run writes five rows a member, and a product or run is seldom deleted.
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    because_of = models.ForeignKey(
        Product,
        verbose_name=_("because of"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    together = models.PositiveIntegerField(_("members who bought both"), default=0)
    run = models.ForeignKey(
        ScoringRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="+", db_index=False
    )

    class Meta:
        ordering = ["customer", "rank"]
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")
        constraints = [models.UniqueConstraint(fields=["customer", "rank"], name="recommendation_unique")]

    def __str__(self):
        return f"{self.customer_id} #{self.rank}: {self.product_id}"

"""Automations: a campaign whose recipients arrive one occasion at a time (a birthday, a purchase to rate, ...).

Each kind has one Automation row (made by migration 0006, switched off) and its own Campaign of kind
"automation": channel, templates, coupon offer, control group and attribution window are the campaign's, so an
automation is edited in the campaign editor and measured on the campaign results page. This row holds only
what a campaign has no field for: whether it runs, and its timing. The jobs are in
marketing.services.automations; a member gets each occasion once (Message is unique per campaign, member and
occasion), however often they run.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from marketing.models.campaigns import Campaign


class AutomationKind(models.TextChoices):
    BIRTHDAY = "birthday", _("Birthday greeting")
    WELCOME = "welcome", _("Welcome")
    POINTS_EXPIRY = "points_expiry", _("Points expiry warning")
    WIN_BACK = "win_back", _("Win-back")
    TIER_UPGRADE = "tier_upgrade", _("Tier upgrade")
    BROWSE_ABANDONMENT = "browse_abandonment", _("Browse abandonment")
    SURVEY = "survey", _("Satisfaction survey")


# What `days` means for each kind (the form's label); the kinds missing here have no day setting.
DAYS_LABELS = {
    AutomationKind.BIRTHDAY: _("Days before the birthday"),
    AutomationKind.POINTS_EXPIRY: _("Days before the points lapse"),
    AutomationKind.WIN_BACK: _("Days without a purchase"),
    AutomationKind.BROWSE_ABANDONMENT: _("Within this many days"),
}


# What each does, shown on the automations page.
DESCRIPTIONS = {
    AutomationKind.BIRTHDAY: _("A greeting, and the offer's coupon, ahead of each member's birthday (solar or lunar)."),
    AutomationKind.WELCOME: _("A welcome to each new member, from any source."),
    AutomationKind.POINTS_EXPIRY: _("A warning before points lapse, with how many and when."),
    AutomationKind.WIN_BACK: _("A message to members who have not bought for a while."),
    AutomationKind.TIER_UPGRADE: _("Congratulations when a member moves up a tier."),
    AutomationKind.BROWSE_ABANDONMENT: _(
        "A reminder to members who keep looking at a product or category without buying."
    ),
    AutomationKind.SURVEY: _(
        "Asks for a score from 1 to 5 after a purchase or a contact with staff; a low score reaches the "
        "unhappy-customer reminder rule."
    ),
}


class Automation(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=AutomationKind, unique=True, editable=False)
    campaign = models.OneToOneField(
        Campaign, verbose_name=_("campaign"), on_delete=models.PROTECT, related_name="automation", editable=False
    )
    enabled = models.BooleanField(_("switched on"), default=False)
    # When it was last switched on: events before it (a purchase, a sign-up) are not caught up on.
    enabled_at = models.DateTimeField(_("switched on at"), null=True, blank=True, editable=False)
    days = models.PositiveSmallIntegerField(
        _("days"),
        default=7,
        validators=[MinValueValidator(0), MaxValueValidator(730)],
        help_text=_("Birthday: days ahead; points: days before they lapse; win-back: days without a purchase; "
                    "browse abandonment: the period the views are counted in."),
    )  # fmt: skip
    views = models.PositiveSmallIntegerField(
        _("views of one product or category"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Browse abandonment: views of one product or category that count as interest."),
    )
    delay_hours = models.PositiveSmallIntegerField(
        _("hours after"),
        default=24,
        validators=[MinValueValidator(0), MaxValueValidator(24 * 30)],
        help_text=_("Satisfaction survey: hours after the purchase or the contact."),
    )
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True, editable=False)
    last_run_count = models.PositiveIntegerField(_("members found in the last run"), default=0, editable=False)
    # Why the last run could not hand its members over (say, a template made invalid): shown on the page.
    last_error = models.CharField(_("last error"), max_length=255, blank=True, editable=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("automation")
        verbose_name_plural = _("automations")
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=AutomationKind.values), name="automation_kind_known"),
        ]

    def __str__(self):
        return str(self.get_kind_display())

    def clean(self):
        if self.kind == AutomationKind.BROWSE_ABANDONMENT and self.days < 1:
            raise ValidationError({"days": _("Count the views over one day at least.")})
        if self.kind == AutomationKind.WIN_BACK and self.days < 1:
            raise ValidationError({"days": _("A win-back needs at least one day without a purchase.")})
        if self.kind == AutomationKind.BIRTHDAY and self.days > 364:
            # A window of a year or more holds two birthdays: the member would be greeted twice in one run.
            raise ValidationError({"days": _("Greet at most 364 days before the birthday.")})

    @property
    def description(self) -> str:
        return str(DESCRIPTIONS[self.kind])

    @property
    def days_label(self) -> str | None:
        label = DAYS_LABELS.get(self.kind)
        return str(label) if label is not None else None

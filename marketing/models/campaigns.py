"""Campaigns and automations, and the one message row per recipient that is the truth about every send.

A campaign sends one channel's message to a segment; an automation (birthday, welcome, win-back, ...) is a
campaign whose recipients arrive one occasion at a time (`Message.occasion`, e.g. "birthday:2027"), so both
have the same rows, guardrails and results page.

The exactly-once design (docs in marketing/services/sending/):
- a Message row per (campaign, member, occasion), unique in the database, written before anything is sent;
- a worker claims a row with a conditional UPDATE (queued -> sending, with a lease), marks it handed before it
  goes to the provider and records the provider's answer on it; a row found in "sending" after its lease is
  marked "unknown" if it was handed over (never sent again blindly), else queued again;
- the control group is rows too (held out), drawn by a hash of campaign and member, so reproducible.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.lib.text import validate_single_line
from customers.models import ConsentChannel, Customer
from marketing.models.coupons import Coupon, CouponOffer
from marketing.models.segments import Segment


class CampaignKind(models.TextChoices):
    ONE_OFF = "one_off", _("Campaign")
    AUTOMATION = "automation", _("Automation")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    PAUSED = "paused", _("Paused")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


class WinnerMetric(models.TextChoices):
    REVENUE = "revenue", _("Revenue per member")
    CONVERSION = "conversion", _("Conversion rate")


class Campaign(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True, validators=[validate_single_line])
    kind = models.CharField(_("kind"), max_length=12, choices=CampaignKind, default=CampaignKind.ONE_OFF)
    channel = models.CharField(_("channel"), max_length=10, choices=ConsentChannel, default=ConsentChannel.EMAIL)
    # Who it is for. An automation has none: its occasions bring the recipients.
    segment = models.ForeignKey(
        Segment, verbose_name=_("segment"), on_delete=models.PROTECT, null=True, blank=True, related_name="campaigns"
    )
    # Each recipient gets their own coupon from this offer (occasion "campaign:<id>[:<occasion>]").
    offer = models.ForeignKey(
        CouponOffer,
        verbose_name=_("coupon offer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
    )
    send_at = models.DateTimeField(_("send at"), null=True, blank=True, help_text=_("Empty: when started."))
    control_percent = models.PositiveSmallIntegerField(
        _("control group %"),
        default=10,
        validators=[MaxValueValidator(50)],
        help_text=_("This share of the members is held out at random, to measure what the campaign earned."),
    )
    attribution_days = models.PositiveSmallIntegerField(
        _("attribution window (days)"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_("Purchases this many days after the send count towards the campaign."),
    )
    # A/B: with two or more variants, this share of the (non-control) members is split between them; the
    # rest waits for the winner, chosen on `winner_metric` with a significance test.
    test_percent = models.PositiveSmallIntegerField(
        _("A/B test share %"), default=20, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    winner_metric = models.CharField(
        _("winner chosen on"), max_length=12, choices=WinnerMetric, default=WinnerMetric.REVENUE
    )
    winner_after_hours = models.PositiveSmallIntegerField(_("choose the winner after (hours)"), default=24)
    winner = models.ForeignKey(
        "marketing.CampaignVariant",
        verbose_name=_("winning variant"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    ab_verdict = models.CharField(_("A/B verdict"), max_length=255, blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus, default=CampaignStatus.DRAFT, editable=False
    )
    # Why sending stopped by itself (auto-pause on failures), shown to the marketer.
    status_reason = models.CharField(_("reason"), max_length=255, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL, null=True, editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("sending started"), null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(_("sending finished"), null=True, blank=True, editable=False)
    # The auto-pause counts failures among sends claimed after this (a resume starts the count afresh).
    resumed_at = models.DateTimeField(_("sending resumed"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        permissions = [("send_campaign", _("Can start, pause and cancel campaigns"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="automation") | models.Q(segment__isnull=False),
                name="campaign_has_segment",
                violation_error_message=_("A campaign needs a segment."),
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("marketing:campaign_detail", args=[self.pk])


class CampaignVariant(models.Model):
    """One version of the message. A campaign has one; an A/B test two to four (labels A-D)."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="variants"
    )
    label = models.CharField(_("variant"), max_length=1, default="A")

    class Meta:
        ordering = ["campaign", "label"]
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "label"], name="variant_label_unique"),
            models.CheckConstraint(condition=models.Q(label__in=list("ABCD")), name="variant_label_a_to_d"),
        ]

    def __str__(self):
        return f"{self.campaign} / {self.label}"


class MessageTemplate(models.Model):
    """A variant's text in one language. The member's language is used, else the site's (LANGUAGE_CODE).

    The text is a restricted template (marketing.templating): only whitelisted variables, no tags that reach
    the database; it is checked when saved, so an error shows in the editor, never at send time.
    """

    variant = models.ForeignKey(
        CampaignVariant, verbose_name=_("variant"), on_delete=models.CASCADE, related_name="templates"
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    subject = models.CharField(pgettext_lazy("e-mail", "subject"), max_length=200, blank=True)
    body = models.TextField(_("text"), help_text=_("The text part of an e-mail, or the SMS."))
    html = models.TextField(_("HTML"), blank=True, help_text=_("E-mail only; empty sends text only."))

    class Meta:
        ordering = ["variant", "language"]
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        constraints = [models.UniqueConstraint(fields=["variant", "language"], name="template_language_unique")]

    def __str__(self):
        return f"{self.variant} ({self.language})"


class MessageStatus(models.TextChoices):
    # Decided when the membership is frozen or the row is prepared: never sent.
    HELD_OUT = "held_out", _("Held out (control group)")
    SKIPPED = "skipped", _("Skipped")
    # Waiting for a worker (or for the winner of an A/B test, or for the morning after SMS quiet hours).
    QUEUED = "queued", _("Queued")
    # Claimed by a worker (conditional UPDATE queued -> sending, with a lease).
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    # Found in "sending" after its lease: the provider may or may not have it. Shown, never retried blindly.
    UNKNOWN = "unknown", _("Unknown (worker lost)")
    # From the provider's tracking, or our own pixel, redirects and unsubscribe link.
    DELIVERED = "delivered", _("Delivered")
    OPENED = "opened", _("Opened")
    CLICKED = "clicked", _("Clicked")
    BOUNCED = "bounced", _("Bounced")
    COMPLAINED = "complained", _("Marked as spam")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")


class SkipReason(models.TextChoices):
    NO_CONSENT = "no_consent", _("No consent for this channel")
    NO_ADDRESS = "no_address", _("No address for this channel")
    FREQUENCY_CAP = "frequency_cap", _("Already messaged often enough this week")
    CANCELLED = "cancelled", _("Campaign cancelled")
    NOT_CHOSEN = "not_chosen", _("A/B test ended with no winner")
    ERASED = "erased", _("Member's personal data erased")


class Message(models.Model):
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.PROTECT, related_name="messages"
    )
    customer = models.ForeignKey(Customer, verbose_name=_("member"), on_delete=models.CASCADE, related_name="messages")
    # "" for a campaign; the occasion for an automation ("birthday:2027", "welcome", "survey:purchase:812").
    occasion = models.CharField(_("occasion"), max_length=60, blank=True, default="")
    # Null for the control group and for an A/B campaign's rows that wait for the winner.
    variant = models.ForeignKey(
        CampaignVariant,
        verbose_name=_("variant"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
    )
    status = models.CharField(_("status"), max_length=12, choices=MessageStatus, default=MessageStatus.QUEUED)
    skip_reason = models.CharField(_("skipped because"), max_length=20, choices=SkipReason, blank=True)
    # A failure's or an auto-pause's reason in the provider's words.
    error = models.CharField(_("error"), max_length=255, blank=True)
    # Where it went (frozen at send time) and in which language.
    address = models.CharField(_("address"), max_length=254, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    coupon = models.OneToOneField(
        Coupon, verbose_name=_("coupon"), on_delete=models.SET_NULL, null=True, blank=True, related_name="message"
    )
    # The provider's id for the message (SMTP Message-ID, gateway id): the key tracking webhooks find it by.
    provider_id = models.CharField(_("provider id"), max_length=255, blank=True)
    # Not before this time (SMS quiet hours, scheduled automations).
    not_before = models.DateTimeField(_("not before"), null=True, blank=True)
    # A claim (queued -> sending) holds until this time; after it the row is "unknown".
    lease_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    # Set (and committed) just before the message goes to the provider: a lost claim's rows with it may have
    # gone ("unknown"), those without it certainly did not (queued again).
    handed_at = models.DateTimeField(_("handed to the provider"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("clicked"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer", "occasion"], name="message_once_per_occasion"),
            models.CheckConstraint(
                condition=models.Q(status="skipped", skip_reason__gt="") | ~models.Q(status="skipped"),
                name="message_skip_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "status"], name="message_campaign_status_idx"),
            models.Index(fields=["customer", "-created_at"], name="message_customer_idx"),
            # The frequency cap: a member's recent sends across campaigns.
            models.Index(
                fields=["customer", "sent_at"],
                name="message_customer_sent_idx",
                condition=models.Q(sent_at__isnull=False),
            ),
            models.Index(fields=["provider_id"], name="message_provider_id_idx", condition=~models.Q(provider_id="")),
            # A worker's claim: the next queued rows of a campaign, in id order.
            models.Index(fields=["campaign", "id"], name="message_queued_idx", condition=models.Q(status="queued")),
            # The sweep for lost claims.
            models.Index(fields=["lease_until"], name="message_sending_idx", condition=models.Q(status="sending")),
        ]

    def __str__(self):
        return f"{self.campaign_id}/{self.customer_id}{':' + self.occasion if self.occasion else ''} {self.status}"

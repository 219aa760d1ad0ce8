"""Interactions with a customer, and the reminders (follow-ups) that come from them."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.lib.text import validate_single_line
from customers.models import Customer, Tier


class InteractionChannel(models.TextChoices):
    PHONE = "phone", _("Phone call")
    EMAIL = "email", pgettext_lazy("channel", "E-mail")
    CHAT = "chat", _("Online chat")
    VISIT = "visit", _("Store visit")
    EVENT = "event", _("Event")
    SMS = "sms", _("SMS")
    SOCIAL = "social", _("Social media")


class Direction(models.TextChoices):
    INBOUND = "in", _("Inbound")
    OUTBOUND = "out", _("Outbound")


class Outcome(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    FOLLOW_UP = "follow_up", _("Follow-up needed")
    NO_ANSWER = "no_answer", _("No answer")
    COMPLAINT = "complaint", _("Complaint")
    SALE = "sale", _("Sale")
    INFO = "info", _("Information given")


class InteractionSource(models.TextChoices):
    STAFF = "staff", _("Staff")
    API = "api", _("API")
    SOCIAL = "social", _("Social mention")
    DEMO = "demo", _("Demo data")
    # A member's answer to a satisfaction survey message (marketing's survey automation).
    SURVEY = "survey", _("Satisfaction survey")


SATISFACTION_RANGE = (1, 5)


class Interaction(models.Model):
    """One contact with a customer: a call, an e-mail, a chat, a visit, an event, an SMS or a social mention."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="interactions"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=InteractionChannel)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction, default=Direction.INBOUND)
    subject = models.CharField(_("subject"), max_length=200, validators=[validate_single_line])
    notes = models.TextField(_("notes"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome, blank=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interactions",
    )
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction"),
        null=True,
        blank=True,
        validators=[MinValueValidator(SATISFACTION_RANGE[0]), MaxValueValidator(SATISFACTION_RANGE[1])],
        help_text=_("1 (very unhappy) to 5 (very happy)."),
    )
    follow_up_on = models.DateField(_("follow up on"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=InteractionSource, default=InteractionSource.STAFF)
    external_ref = models.CharField(
        _("message id"),
        max_length=100,
        blank=True,
        help_text=_("The message or post id in the source system, so a repeated delivery is stored once."),
        validators=[validate_single_line],
    )
    external_handle = models.CharField(_("social handle"), max_length=100, blank=True)
    external_url = models.URLField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        permissions = [("view_interaction_reports", _("Can see interaction reports"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(satisfaction__isnull=True)
                | models.Q(satisfaction__gte=SATISFACTION_RANGE[0], satisfaction__lte=SATISFACTION_RANGE[1]),
                name="interaction_satisfaction_1_to_5",
            ),
            models.UniqueConstraint(
                fields=["source", "external_ref"],
                condition=~models.Q(external_ref=""),
                name="interaction_source_ref_unique",
                violation_error_message=_("This interaction has already been recorded."),
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="interaction_customer_idx"),
            models.Index(fields=["occurred_at"], name="interaction_occurred_idx"),
        ]

    def __str__(self):
        return f"{self.get_channel_display()}: {self.subject}"


class ReminderStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    SNOOZED = "snoozed", _("Snoozed")
    CANCELLED = "cancelled", _("Cancelled")


# Reminders still waiting to be done: the ones notified, listed on "My day" and deduplicated by rules.
ACTIVE_REMINDER = models.Q(status__in=[ReminderStatus.OPEN, ReminderStatus.SNOOZED])


class ReminderSource(models.TextChoices):
    STAFF = "staff", _("Staff")
    FOLLOW_UP = "follow_up", _("Interaction follow-up")
    RULE = "rule", _("Rule")
    SOCIAL = "social", _("Social mention")
    API = "api", _("API")


class ReminderRuleKind(models.TextChoices):
    NO_CONTACT = "no_contact", _("No contact for N days (members of a tier or above)")
    LOW_SATISFACTION = "low_satisfaction", _("Satisfaction score at or below N")


class AssigneePolicy(models.TextChoices):
    OWNER = "owner", _("The customer's owner (else the fixed user)")
    FIXED = "fixed", _("A fixed user")


class ReminderRule(models.Model):
    """A rule the daily job turns into reminders (see interactions.services.followups.reminder_rules_apply)."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=ReminderRuleKind)
    days = models.PositiveIntegerField(
        _("days"),
        validators=[MinValueValidator(1)],
        help_text=_("No contact: days without an interaction. Satisfaction: how far back scores count."),
    )
    min_tier = models.ForeignKey(
        Tier,
        verbose_name=_("tier or above"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("No contact: only members of this tier or a higher one (empty: every customer)."),
    )
    max_score = models.PositiveSmallIntegerField(
        _("score at or below"),
        null=True,
        blank=True,
        validators=[MinValueValidator(SATISFACTION_RANGE[0]), MaxValueValidator(SATISFACTION_RANGE[1])],
    )
    assignee_policy = models.CharField(
        _("assign to"), max_length=10, choices=AssigneePolicy, default=AssigneePolicy.OWNER
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("fixed user"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    text = models.CharField(_("what to do"), max_length=255)
    active = models.BooleanField(pgettext_lazy("reminder rule", "active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("reminder rule")
        verbose_name_plural = _("reminder rules")

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.kind == ReminderRuleKind.LOW_SATISFACTION and self.max_score is None:
            errors["max_score"] = _("A satisfaction rule needs the score at or below which it fires.")
        if self.assignee_policy == AssigneePolicy.FIXED and self.assignee_id is None:
            errors["assignee"] = _("Choose the user who gets the reminders.")
        if errors:
            raise ValidationError(errors)


class Reminder(models.Model):
    """Something a member of staff should do about a customer by a given time."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="reminders"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assigned to"), on_delete=models.CASCADE, related_name="reminders"
    )
    due_at = models.DateTimeField(_("due"))
    text = models.CharField(_("what to do"), max_length=255)
    status = models.CharField(_("status"), max_length=10, choices=ReminderStatus, default=ReminderStatus.OPEN)
    source = models.CharField(_("source"), max_length=10, choices=ReminderSource, default=ReminderSource.STAFF)
    interaction = models.ForeignKey(
        Interaction,
        verbose_name=_("interaction"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reminders",
    )
    rule = models.ForeignKey(
        ReminderRule,
        verbose_name=_("rule"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reminders",
    )
    # Set by the claim that notifies the assignee; cleared when the reminder is snoozed to a new time.
    notified_at = models.DateTimeField(_("notified"), null=True, blank=True, editable=False)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            # A rule keeps at most one reminder waiting per customer, however often it runs.
            models.UniqueConstraint(
                fields=["rule", "customer"],
                condition=ACTIVE_REMINDER & models.Q(rule__isnull=False),
                name="reminder_rule_customer_active_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["assignee", "due_at"], condition=ACTIVE_REMINDER, name="reminder_assignee_due_idx"),
            # What the notification job scans every few minutes: only reminders not yet notified.
            models.Index(
                fields=["due_at"],
                condition=ACTIVE_REMINDER & models.Q(notified_at__isnull=True),
                name="reminder_to_notify_idx",
            ),
            models.Index(fields=["customer", "-due_at"], name="reminder_customer_idx"),
        ]

    def __str__(self):
        return f"{self.text} ({self.due_at:%Y-%m-%d %H:%M})"

    @property
    def is_active(self) -> bool:
        return self.status in (ReminderStatus.OPEN, ReminderStatus.SNOOZED)

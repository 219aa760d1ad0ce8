"""History of a customer that services append to: consent, merges. (The audit trail is crm.audit's.)"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models.customers import Customer


class ConsentChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class ConsentMethod(models.TextChoices):
    FORM = "form", _("Staff form")
    SIGNUP = "signup", _("Sign-up form")
    PAPER = "paper", _("Signed paper form")
    VERBAL = "verbal", _("Verbal, recorded by staff")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribe link")
    ERASURE = "erasure", _("Erasure of personal data")


class ConsentEvent(models.Model):
    """History of consent per channel: every grant and withdrawal, when and how."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="consent_events"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=ConsentChannel)
    granted = models.BooleanField(_("granted"))
    method = models.CharField(_("how"), max_length=20, choices=ConsentMethod)
    note = models.CharField(_("note"), max_length=255, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["customer", "-at"], name="consent_customer_idx")]
        verbose_name = _("consent event")
        verbose_name_plural = _("consent events")

    def __str__(self):
        return f"{self.customer_id} {self.channel} {'+' if self.granted else '-'} {self.at:%Y-%m-%d}"


class MergeRecord(models.Model):
    """A customer merged into another: its CRM number keeps leading to the survivor."""

    survivor = models.ForeignKey(
        Customer, verbose_name=_("merged into"), on_delete=models.CASCADE, related_name="merge_records"
    )
    merged_crm_number = models.BigIntegerField(_("merged CRM number"), unique=True)
    merged_name = models.CharField(_("merged customer's name"), max_length=100)
    snapshot = models.JSONField(_("merged customer's details"), default=dict)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("merged by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("merge record")
        verbose_name_plural = _("merge records")

    def __str__(self):
        return f"{self.merged_crm_number} -> {self.survivor_id}"

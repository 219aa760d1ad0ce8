"""Social-media mentions no customer matched, waiting for a person to assign them."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer


class UnmatchedMention(models.Model):
    """A mention the webhook could not tie to a customer, waiting for a person to assign it."""

    platform = models.CharField(_("platform"), max_length=30)
    handle = models.CharField(_("handle"), max_length=100, blank=True)
    author_name = models.CharField(_("author"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    text = models.TextField(_("text"))
    url = models.URLField(_("link"), max_length=500, blank=True)
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    posted_at = models.DateTimeField(_("posted"), default=timezone.now)
    # The integration that delivered it (crm.web.api's ApiClient, named by label: this app imports no API code).
    received_from = models.ForeignKey(
        "api.ApiClient", verbose_name=_("received from"), on_delete=models.SET_NULL, null=True, blank=True
    )
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    assigned_to = models.ForeignKey(
        Customer,
        verbose_name=_("assigned to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_mentions",
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)

    class Meta:
        db_table = "api_unmatchedmention"  # the table it had when the API app held it
        ordering = ["-posted_at", "-id"]
        verbose_name = _("unmatched mention")
        verbose_name_plural = _("unmatched mentions")
        indexes = [
            models.Index(fields=["-posted_at"], condition=models.Q(assigned_at=None), name="mention_open_idx"),
        ]
        constraints = [
            # A retried webhook delivery is stored once.
            models.UniqueConstraint(
                fields=["platform", "external_id"], condition=~models.Q(external_id=""), name="mention_external_unique"
            ),
        ]

    def __str__(self):
        return f"{self.platform} {self.handle or self.author_name}: {self.text[:40]}"

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer


class Scope(models.TextChoices):
    MEMBERS_WRITE = "members:write", _("Create and update members")
    LOOKUP = "lookup", _("Look up members")
    TRANSACTIONS_WRITE = "transactions:write", _("Post purchases")
    INTERACTIONS_WRITE = "interactions:write", _("Post interactions")
    MENTIONS_WRITE = "mentions:write", _("Post social-media mentions (webhook)")


class ApiClient(models.Model):
    """One outside system (shop, ERP, sign-up form, social listening) and its token.

    Only a SHA-256 of the token is stored: the token is random (256 bits), so a
    fast hash is enough, and it lets a request find its client by an index.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    token_prefix = models.CharField(
        _("token begins with"), max_length=12, editable=False, help_text=_("To tell tokens apart; not a secret.")
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    scopes = ArrayField(
        models.CharField(max_length=30, choices=Scope), verbose_name=_("scopes"), default=list, blank=True
    )
    active = models.BooleanField(_("active"), default=True, help_text=_("Untick to revoke the token at once."))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")

    def __str__(self):
        return self.name

    def has_scope(self, scope: Scope) -> bool:
        return scope in self.scopes


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
    received_from = models.ForeignKey(
        ApiClient, verbose_name=_("received from"), on_delete=models.SET_NULL, null=True, blank=True
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

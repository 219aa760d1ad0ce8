from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.lib.ratelimit import validate_rate


class Scope(models.TextChoices):
    MEMBERS_WRITE = "members:write", _("Create and update members")
    LOOKUP = "lookup", _("Look up members")
    TRANSACTIONS_WRITE = "transactions:write", _("Post purchases")
    INTERACTIONS_WRITE = "interactions:write", _("Post interactions")
    MENTIONS_WRITE = "mentions:write", _("Post social-media mentions (webhook)")
    REWARDS_WRITE = "rewards:write", _("Exchange members' points for rewards")
    EVENTS_WRITE = "events:write", _("Post shop behaviour (views, favourites, cart additions)")
    SEGMENTS_READ = "segments:read", _("Read segments, count rules, list a segment's members")
    SEGMENTS_WRITE = "segments:write", _("Create, change and delete segments")
    PERSONAL_DATA = "personal_data", _("See members' contact details unmasked (mobile, e-mail, birthday, address)")


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
    active = models.BooleanField(
        pgettext_lazy("api client", "active"), default=True, help_text=_("Untick to revoke the token at once.")
    )
    rate_limit = models.CharField(
        _("rate limit"),
        max_length=20,
        blank=True,
        validators=[validate_rate],
        help_text=_("Requests this token may make, e.g. 1200/min or 50000/hour; empty: the API_RATE setting."),
    )
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

"""Segments: who a campaign or an offer is for, as rules (dynamic) or as a frozen list (static)."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.models import Customer


def every_member() -> dict:
    return {"op": "and", "rules": []}


class SegmentKind(models.TextChoices):
    DYNAMIC = "dynamic", _("Dynamic (re-evaluated when used)")
    STATIC = "static", _("Static list")


class Segment(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.CharField(pgettext_lazy("segment", "description"), max_length=255, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=SegmentKind, default=SegmentKind.DYNAMIC)
    # The rule tree (marketing.rules documents it). A static list keeps the rules it was frozen from, if any.
    rules = models.JSONField(_("rules"), default=every_member)
    member_count = models.PositiveIntegerField(_("members"), null=True, blank=True, editable=False)
    counted_at = models.DateTimeField(_("counted at"), null=True, blank=True, editable=False)
    frozen_from = models.ForeignKey(
        "self", verbose_name=_("frozen from"), on_delete=models.SET_NULL, null=True, blank=True, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL, null=True, editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        permissions = [("export_segment", _("Can export a segment's members"))]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("marketing:segment_detail", args=[self.pk])

    @property
    def is_static(self) -> bool:
        return self.kind == SegmentKind.STATIC


class SegmentMember(models.Model):
    """A member of a static list, written when the list is frozen or uploaded."""

    segment = models.ForeignKey(Segment, verbose_name=_("segment"), on_delete=models.CASCADE, related_name="members")
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="segment_memberships"
    )
    added_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("segment member")
        verbose_name_plural = _("segment members")
        constraints = [models.UniqueConstraint(fields=["segment", "customer"], name="segment_member_unique")]
        indexes = [models.Index(fields=["customer"], name="segment_member_customer_idx")]

    def __str__(self):
        return f"{self.segment_id}: {self.customer_id}"

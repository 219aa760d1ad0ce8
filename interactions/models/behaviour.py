"""What a member did in the shop before buying: product and category views, favourites, cart additions.

One narrow row per event, in a table partitioned by month on the event's time (Postgres declarative
partitioning, made by migration 0013): old months are dropped whole after BEHAVIOUR_RETENTION_MONTHS instead
of deleted row by row, and a segment's "in the last 7 days" reads one or two partitions. The partition key
must be in every unique key, so the key that makes a resent batch harmless is (time, client, event id).
Written only by interactions.services.behaviour.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.models import Category, Customer
from interactions.models.purchases import Product


class BehaviourKind(models.IntegerChoices):
    """Stored as a small integer: the table holds millions of rows a month."""

    PRODUCT_VIEW = 1, _("Product view")
    CATEGORY_VIEW = 2, _("Category view")
    FAVOURITE = 3, _("Favourite")
    CART_ADD = 4, _("Cart addition")


class BehaviourEvent(models.Model):
    pk = models.CompositePrimaryKey("occurred_at", "client_id", "event_id")  # migration 0013 says why in this order
    occurred_at = models.DateTimeField(_("when"))
    received_at = models.DateTimeField(_("received"))
    member = models.ForeignKey(
        Customer,
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="behaviour_events",
        db_index=False,  # behaviour_member_idx (member, occurred_at) serves it
    )
    # A product event also carries the product's category, so "viewed category X" counts the views of X's
    # products without a join.
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, null=True, blank=True, db_index=False
    )
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, null=True, blank=True, db_index=False
    )
    # The API client that sent it (crm.web.api's ApiClient, which this app may not import): with event_id,
    # the sender's idempotency key.
    client_id = models.IntegerField(_("API client"))
    event_id = models.CharField(_("event id"), max_length=64)
    kind = models.PositiveSmallIntegerField(_("kind"), choices=BehaviourKind)

    class Meta:
        verbose_name = _("behaviour event")
        verbose_name_plural = _("behaviour events")
        indexes = [
            models.Index(fields=["member", "occurred_at"], name="behaviour_member_idx"),
            models.Index(fields=["category", "occurred_at"], name="behaviour_category_idx"),
            models.Index(fields=["product", "occurred_at"], name="behaviour_product_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.member_id} {self.occurred_at:%Y-%m-%d %H:%M}"

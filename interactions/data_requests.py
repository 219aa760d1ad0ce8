"""What interactions adds to a data-subject export (customers.data_requests): purchases with their lines,
contacts (survey answers included), reminders, shop behaviour. Registered from InteractionsConfig.ready()."""

from django.utils.translation import gettext_lazy as _

from customers.data_requests import Table, register_part, table
from customers.models import Customer
from interactions.models import BehaviourEvent, Interaction, Reminder, Transaction, TransactionLine


def interaction_tables(customer: Customer) -> list[Table]:
    return [
        table(
            "purchases",
            _("Purchases"),
            Transaction.objects.filter(customer=customer).order_by("occurred_at", "id"),
            [
                ("id", _("Purchase")),
                "occurred_at",
                "channel",
                "store",
                "amount",
                "currency",
                "status",
                "refunded_amount",
                "discount",
                "coupon_code",
                "points_earned",
                "points_reversed",
                "external_ref",
            ],
        ),
        table(
            "purchase_lines",
            _("Purchase lines"),
            TransactionLine.objects.filter(transaction__customer=customer).order_by("transaction_id", "id"),
            [
                ("transaction_id", _("Purchase")),
                ("product__sku", _("SKU")),
                ("product__name", _("product")),
                "description",
                "quantity",
                "unit_price",
                "line_total",
            ],
        ),
        table(
            "interactions",
            _("Contacts"),
            Interaction.objects.filter(customer=customer).order_by("occurred_at", "id"),
            [
                "occurred_at",
                "channel",
                "direction",
                "subject",
                "notes",
                "outcome",
                "satisfaction",
                "source",
                "external_handle",
                "external_url",
                ("staff__username", _("staff member")),
            ],
        ),
        table(
            "reminders",
            _("Follow-ups"),
            Reminder.objects.filter(customer=customer).order_by("due_at", "id"),
            ["due_at", "text", "status", "source", "done_at"],
        ),
        table(
            "behaviour",
            _("Shop behaviour"),
            BehaviourEvent.objects.filter(member=customer).order_by("occurred_at"),
            ["occurred_at", "kind", ("product__name", _("product")), ("category__name", _("category"))],
        ),
    ]


def register() -> None:
    register_part("interactions", interaction_tables, title=_("Purchases and contacts"), order=10)

"""A customer's purchases as CSV or xlsx (what the customer or an accountant asks for)."""

from django.core.files import File
from django.utils.translation import gettext as _

from crm.lib import tabular
from customers.models import Customer
from interactions.selectors import transactions_for_customer


def transactions_export(*, customer: Customer, fmt: str) -> tuple[File, str]:
    """The file and its extension; rows stream from the database in chunks."""
    writer = tabular.writer(fmt)
    writer.write_row(
        [
            _("Date"),
            _("Order number"),
            _("Channel"),
            _("Store"),
            _("Items"),
            _("Amount"),
            _("Refunded amount"),
            _("Currency"),
            _("Status"),
            _("Points earned"),
        ]
    )
    for tx in transactions_for_customer(customer=customer).iterator(chunk_size=1000):
        items = "; ".join(
            f"{line.quantity} × {line.product.name if line.product else line.description}" for line in tx.lines.all()
        )
        writer.write_row(
            [
                tx.occurred_at.isoformat(timespec="minutes"),
                tx.external_ref,
                tx.get_channel_display(),
                tx.store,
                items,
                tx.amount,
                tx.refunded_amount,
                tx.currency,
                tx.get_status_display(),
                tx.points_earned,
            ]
        )
    return writer.close(), writer.extension

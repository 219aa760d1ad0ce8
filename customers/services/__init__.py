"""Every write to customers, one module per subject; import them from here.

customers: create, update, consent, audit, bulk create, export.
membership: the points ledger.
tiers: tiers earned by spend, set by hand, and the progress to the next.
merge: likely duplicates and merging two customers.
"""

from customers.services import membership, merge, tiers
from customers.services.customers import (
    CONSENT_FIELDS,
    EXPORT_COLUMNS,
    consent_set,
    customer_create,
    customer_export,
    customer_update,
    customers_bulk_create,
    customers_copy_in,
    customers_write_export,
)

__all__ = [
    "CONSENT_FIELDS",
    "EXPORT_COLUMNS",
    "consent_set",
    "customer_create",
    "customer_export",
    "customers_write_export",
    "customer_update",
    "customers_bulk_create",
    "customers_copy_in",
    "membership",
    "merge",
    "tiers",
]

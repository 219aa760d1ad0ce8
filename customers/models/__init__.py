"""Customers' tables, one module per subject: the customer and profile (customers), membership (tiers,
points ledger, tier changes) and history (consent, audit, merges)."""

from customers.models.customers import (
    PROFILE_FIELDS,
    Category,
    Customer,
    CustomerQuerySet,
    Gender,
    IdType,
    Source,
    Tag,
)
from customers.models.history import (
    ConsentChannel,
    ConsentEvent,
    ConsentMethod,
    MergeRecord,
)
from customers.models.membership import (
    PointsEntry,
    PointsKind,
    PointsReason,
    Reason,
    Tier,
    TierChange,
    TierChangeKind,
    TierChangeReason,
    coded_reason_text,
    render_reason,
)

__all__ = [
    "IdType",
    "PROFILE_FIELDS",
    "Category",
    "ConsentChannel",
    "ConsentEvent",
    "ConsentMethod",
    "Customer",
    "CustomerQuerySet",
    "Gender",
    "MergeRecord",
    "PointsEntry",
    "PointsKind",
    "PointsReason",
    "Reason",
    "Source",
    "Tag",
    "Tier",
    "TierChange",
    "TierChangeKind",
    "TierChangeReason",
    "coded_reason_text",
    "render_reason",
]

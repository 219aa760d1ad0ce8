"""Writes about what happens with a customer, one module per subject; import them from here.

purchases: products, purchases and refunds, and the membership rules that follow from spend.
contact: interactions and reminders.
surveys: a member's satisfaction score from a survey link.
behaviour: shop behaviour (views, favourites, cart additions) in batches; partitions: its monthly partitions.
"""

from interactions.services.behaviour import EventInput, behaviour_record
from interactions.services.contact import (
    contact_settle_erasure,
    follow_up_due_at,
    follow_up_reminder,
    follow_up_validate,
    interaction_log,
    interaction_receive,
    interactions_bulk_load,
    reminder_cancel,
    reminder_complete,
    reminder_create,
    reminder_snooze,
    reminders_settle_merge,
)
from interactions.services.partitions import behaviour_partitions_maintain
from interactions.services.purchases import (
    FLAG_AMOUNT_FACTOR,
    FLAG_BURST_COUNT,
    FLAG_BURST_WINDOW,
    FLAG_MIN_PRIOR_ORDERS,
    LineInput,
    membership_maintain,
    product_save,
    tiers_evaluate,
    transaction_receive,
    transaction_record,
    transaction_reference,
    transaction_refund,
    transactions_bulk_load,
)
from interactions.services.stats import (
    purchase_stats_after_merge,
    purchase_stats_reconcile,
    purchase_stats_refresh,
    purchase_windows_roll,
)
from interactions.services.surveys import interaction_score, purchase_score

__all__ = [
    "contact_settle_erasure",
    "EventInput",
    "FLAG_AMOUNT_FACTOR",
    "FLAG_BURST_COUNT",
    "FLAG_BURST_WINDOW",
    "FLAG_MIN_PRIOR_ORDERS",
    "LineInput",
    "behaviour_partitions_maintain",
    "behaviour_record",
    "follow_up_due_at",
    "follow_up_reminder",
    "follow_up_validate",
    "interaction_log",
    "interaction_receive",
    "interaction_score",
    "interactions_bulk_load",
    "membership_maintain",
    "product_save",
    "purchase_score",
    "purchase_stats_after_merge",
    "purchase_stats_reconcile",
    "purchase_stats_refresh",
    "purchase_windows_roll",
    "reminder_cancel",
    "reminder_complete",
    "reminder_create",
    "reminder_snooze",
    "reminders_settle_merge",
    "tiers_evaluate",
    "transaction_receive",
    "transaction_record",
    "transaction_reference",
    "transaction_refund",
    "transactions_bulk_load",
]

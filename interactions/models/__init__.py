"""What happens with a customer, one module per subject: purchases, contact (interactions, reminders),
mentions (social-media mentions waiting to be assigned) and behaviour (views, favourites, cart additions)."""

from interactions.models.behaviour import BehaviourEvent, BehaviourKind
from interactions.models.contact import (
    ACTIVE_REMINDER,
    SATISFACTION_RANGE,
    AssigneePolicy,
    Direction,
    Interaction,
    InteractionChannel,
    InteractionSource,
    Outcome,
    Reminder,
    ReminderRule,
    ReminderRuleKind,
    ReminderSource,
    ReminderStatus,
)
from interactions.models.mentions import UnmatchedMention
from interactions.models.purchases import (
    Channel,
    FlagReason,
    Product,
    Transaction,
    TransactionLine,
    TransactionSource,
    TransactionStatus,
    default_currency,
)
from interactions.models.stats import WINDOW_DAYS, PurchaseStats, PurchaseStatsCheck, PurchaseWindows, window_column

__all__ = [
    "ACTIVE_REMINDER",
    "AssigneePolicy",
    "BehaviourEvent",
    "BehaviourKind",
    "Channel",
    "Direction",
    "FlagReason",
    "Interaction",
    "InteractionChannel",
    "InteractionSource",
    "Outcome",
    "Product",
    "PurchaseStats",
    "PurchaseStatsCheck",
    "PurchaseWindows",
    "Reminder",
    "ReminderRule",
    "ReminderRuleKind",
    "ReminderSource",
    "ReminderStatus",
    "SATISFACTION_RANGE",
    "Transaction",
    "TransactionLine",
    "TransactionSource",
    "TransactionStatus",
    "UnmatchedMention",
    "WINDOW_DAYS",
    "default_currency",
    "window_column",
]

"""The facts segment rules may name that interactions owns, a module per subject: purchases, contact and
behaviour (registered from InteractionsConfig.ready into crm.segment_fields)."""

from interactions.segment_fields import behaviour, contact, purchases


def register_fields() -> None:
    purchases.register_fields()
    contact.register_fields()
    behaviour.register_fields()

"""Signals other apps listen to, so customers never imports them."""

from django.dispatch import Signal

# Sent inside customer_merge's transaction, with both rows locked, before the other customer's
# rows move to the survivor (kwargs: survivor, other). A receiver settles rows of its own
# that could not simply move, such as two of a kind where only one may exist per customer.
customer_merging = Signal()

# Sent inside the same transaction after the other customer's rows have moved to the survivor and the
# other is gone (kwargs: survivor): a receiver recomputes what it keeps per customer from the moved rows.
customer_merged = Signal()

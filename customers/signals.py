"""Signals other apps listen to, so customers never imports them."""

from django.dispatch import Signal

# Sent inside customer_merge's transaction, with both rows locked, before the other customer's
# rows move to the survivor (kwargs: survivor, other). A receiver settles rows of its own
# that could not simply move, such as two of a kind where only one may exist per customer.
customer_merging = Signal()

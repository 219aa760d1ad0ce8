"""Signals other apps listen to, so customers never imports them."""

from django.dispatch import Signal

# Sent inside customer_merge's transaction, with both rows locked, before the other customer's
# rows move to the survivor (kwargs: survivor, other). A receiver settles rows of its own
# that could not simply move, such as two of a kind where only one may exist per customer.
customer_merging = Signal()

# Sent inside the same transaction after the other customer's rows have moved to the survivor and the
# other is gone (kwargs: survivor): a receiver recomputes what it keeps per customer from the moved rows.
customer_merged = Signal()

# Sent inside customer_erase's transaction, with the customer's row locked and its own personal fields already
# anonymised (kwargs: customer). A receiver blanks what its app holds about the person in free text, stops what
# it would still do for them (queued messages), and removes what it derived about them (scores); it must leave
# totals alone (purchases, points, coupons' and campaigns' results), since the member still counts in them.
customer_erased = Signal()

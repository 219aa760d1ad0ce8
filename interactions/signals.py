"""Signals other apps listen to, so interactions never imports them."""

from django.dispatch import Signal

# Sent inside the service's transaction once a recorded purchase has changed in place (a refund; kwargs:
# transaction). A new purchase is not announced: readers that keep figures find new rows by their ids.
purchase_changed = Signal()

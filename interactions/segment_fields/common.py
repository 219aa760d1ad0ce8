"""What the purchase, contact and behaviour facts share: their periods and the lists a rule picks from."""

import datetime
from collections.abc import Sequence

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.segment_fields import Param
from customers.models import Category
from interactions.models import Product
from interactions.selectors import window_since

DAYS = Param("days", _("in the last N days"), default=90)
RECENT_DAYS = Param("days", _("in the last N days"), default=30)  # what was bought or who was contacted lately
TIMES = Param("times", _("at least N times"), default=1, high=1000)


def since(days: int) -> datetime.datetime:
    """The start of the local day `days` days ago: "in the last N days" counts whole days and today."""
    return window_since(timezone.localdate(), days)  # the purchase period columns count from the same moment


def categories() -> Sequence[tuple[object, str]]:
    return [(c.pk, str(c)) for c in Category.objects.all()]


def products() -> Sequence[tuple[object, str]]:
    return [(p.pk, f"{p.sku} {p.name}") for p in Product.objects.filter(active=True).order_by("sku")]

"""The template values an automation's occasion brings (marketing.rendering.context_for's `occasion`).

Read when the message is rendered, so the figure is the one at send time: points spent since the warning was
prepared are not announced as lapsing.
"""

import datetime

from django.db.models import Sum

from customers.models import Customer, PointsEntry
from marketing import surveys

POINTS_EXPIRY = "points_expiry"


def points_expiry_key(day: datetime.date) -> str:
    return f"{POINTS_EXPIRY}:{day.isoformat()}"


def points_expiry_day(occasion: str) -> datetime.date | None:
    prefix, _sep, rest = occasion.partition(":")
    if prefix != POINTS_EXPIRY:
        return None
    try:
        return datetime.date.fromisoformat(rest)
    except ValueError:
        return None


def points_lapsing(customer_id: int, day: datetime.date) -> int:
    """The member's points that lapse on `day` (what their lots expiring then still hold)."""
    held = PointsEntry.objects.filter(customer_id=customer_id, remaining__gt=0, expires_on=day).aggregate(
        total=Sum("remaining")
    )
    return held["total"] or 0


def values_for(customer: Customer, occasion: str) -> dict:
    if not occasion:
        return {}
    if (day := points_expiry_day(occasion)) is not None:
        return {"points_expiring": points_lapsing(customer.pk, day), "points_expiring_on": day}
    if surveys.parse_occasion(occasion) is not None:
        return {"survey_links": surveys.score_links(customer_id=customer.pk, occasion=occasion)}
    return {}

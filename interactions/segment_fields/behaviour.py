"""The shop-behaviour facts segment rules may name: viewed a category or a product, favourited, added to cart,
"at least N times in the last N days". So a marketer can ask for "viewed category X at least 3 times in the
last 7 days and did not buy from it" with bought_category beside it.

Each reads only the partitions of its period, through the index on (category or product, time).
"""

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from crm.segment_fields import Kind, Operator, Param, SegmentField, Value, register
from interactions.models import BehaviourEvent, BehaviourKind
from interactions.segment_fields.common import TIMES, categories, products, since

BEHAVIOUR = _("Shop behaviour")
WEEK = Param("days", _("in the last N days"), default=7)  # browsing is recent intent: a week, not a month


def behaviour_q(kinds: tuple[BehaviourKind, ...], column: str):
    """Did one of `kinds` on any of these categories or products at least `times` times in the last `days`
    days; "none of" is the opposite."""

    def build(operator: Operator, value: Value, days: int = WEEK.default, times: int = 1) -> Q:
        members = (
            BehaviourEvent.objects.filter(occurred_at__gte=since(days), kind__in=kinds, **{f"{column}__in": value})
            .values("member_id")
            .annotate(n=Count("*"))
            .filter(n__gte=times)
            .values("member_id")
        )
        q = Q(pk__in=members)
        return q if operator == Operator.IN else ~q

    return build


def _field(key: str, label, kinds: tuple[BehaviourKind, ...], column: str, choices) -> SegmentField:
    return SegmentField(
        key,
        label,
        BEHAVIOUR,
        Kind.CHOICES,
        choices=choices,
        build=behaviour_q(kinds, column),
        operators=(Operator.IN, Operator.NOT_IN),
        params=(WEEK, TIMES),
    )


def register_fields() -> None:
    views = (BehaviourKind.PRODUCT_VIEW, BehaviourKind.CATEGORY_VIEW)  # a product's view counts for its category
    register(
        _field("viewed_category", _("Viewed category"), views, "category_id", categories),
        _field("viewed_product", _("Viewed product"), (BehaviourKind.PRODUCT_VIEW,), "product_id", products),
        _field("favourited", _("Favourited product"), (BehaviourKind.FAVOURITE,), "product_id", products),
        _field("added_to_cart", _("Added to cart"), (BehaviourKind.CART_ADD,), "product_id", products),
    )

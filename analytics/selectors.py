"""Reads of scores shared by pages, templates and jobs."""

from collections.abc import Sequence

from django.db.models import Count, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from analytics.models import MemberRecommendation, RfmSegment
from customers.models import Customer


def recommended_product_names(customer_ids: Sequence[int]) -> dict[int, list[str]]:
    """Each member's recommended products' names, best first (the template variable `recommended_products`)."""
    names: dict[int, list[str]] = {}
    rows = (
        MemberRecommendation.objects.filter(customer_id__in=list(customer_ids))
        .order_by("customer_id", "rank")
        .values_list("customer_id", "product__name")
    )
    for customer_id, name in rows:
        names.setdefault(customer_id, []).append(name)
    return names


def rfm_mix(members: QuerySet[Customer]) -> list[tuple[str, str, int]]:
    """A group of members by RFM segment, in the segments' order (crm/breakdowns.py "rfm"); members without
    scores count as not scored. One query: the group is a subquery."""
    counts = dict(
        Customer.objects.filter(pk__in=members.values("pk"))
        .annotate(rfm=Coalesce("scores__segment", Value("unscored")))
        .values("rfm")
        .annotate(n=Count("pk"))
        .values_list("rfm", "n")
    )
    choices = [*RfmSegment.choices, ("unscored", _("Not scored"))]
    # Labels as their English msgids, whatever language the job runs in: a report translates them when shown.
    with translation.override("en"):
        return [(key, str(label), counts[key]) for key, label in choices if counts.get(key)]

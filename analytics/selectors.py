"""Reads of scores shared by pages, templates and jobs."""

from collections.abc import Sequence

from analytics.models import MemberRecommendation


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

"""Segments with members and purchase facts written straight to the tables, and a stand-in for analytics' RFM
breakdown (crm.breakdowns "rfm"), for the segment report tests."""

from contextlib import contextmanager
from decimal import Decimal

from crm import breakdowns
from customers.tests.factories import CustomerFactory
from interactions.models import PurchaseStats
from marketing.models import Segment, SegmentKind, SegmentMember

SHANGHAI = {"op": "and", "rules": [{"field": "city", "operator": "eq", "value": "上海市"}]}


def member(spend_365d: str | None = None, **fields):
    """A customer; with `spend_365d`, their purchase facts say they spent that over the last 365 days."""
    customer = CustomerFactory(**fields)
    if spend_365d is not None:
        PurchaseStats.objects.create(customer=customer, spend_365d=Decimal(spend_365d), orders_365d=1)
    return customer


def static_list(name: str, customers) -> Segment:
    segment = Segment.objects.create(name=name, kind=SegmentKind.STATIC)
    SegmentMember.objects.bulk_create([SegmentMember(segment=segment, customer=c) for c in customers])
    return segment


def _by_city(members):
    """Shanghai members are "Champions", the rest "Hibernating": enough to see the mix go through."""
    total = members.count()
    champions = members.filter(city="上海市").count()
    return [("champions", "Champions", champions), ("hibernating", "Hibernating", total - champions)]


@contextmanager
def rfm_breakdown(count=_by_city):
    """analytics' "rfm" breakdown replaced for the block (marketing may not import analytics)."""
    previous = breakdowns.get("rfm")
    breakdowns.register(breakdowns.Breakdown("rfm", "RFM", count))
    try:
        yield
    finally:
        breakdowns._breakdowns.pop("rfm")
        if previous is not None:
            breakdowns.register(previous)


@contextmanager
def no_rfm_breakdown():
    """As before analytics registers its breakdown (or with analytics switched off)."""
    previous = breakdowns._breakdowns.pop("rfm", None)
    try:
        yield
    finally:
        if previous is not None:
            breakdowns.register(previous)

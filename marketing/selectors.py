"""Reads of segments shared by pages and jobs."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from customers.models import Customer
from customers.selectors import customers_visible_to
from marketing.models import Segment
from marketing.rules import rule_compile


def segment_members(segment: Segment) -> QuerySet[Customer]:
    """Everyone the segment holds now: a dynamic segment's rules evaluated at this moment, a static list's rows."""
    if segment.is_static:
        return Customer.objects.filter(segment_memberships__segment=segment)
    return Customer.objects.filter(rule_compile(segment.rules))


def rules_members(rules: object, *, user: AbstractBaseUser) -> QuerySet[Customer]:
    """The members a rule tree selects among those the user may see (the builder's count and preview)."""
    return customers_visible_to(user).filter(rule_compile(rules))


def segment_preview(members: QuerySet[Customer], *, limit: int = 20) -> list[Customer]:
    return list(members.select_related("tier").order_by("-crm_number")[:limit])


def segments_list() -> QuerySet[Segment]:
    return Segment.objects.select_related("created_by", "frozen_from")

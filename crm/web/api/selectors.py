"""Reads the API shares: which customers an integration sees, and finding the one it means."""

from django.db.models import QuerySet

from customers.models import Customer
from customers.selectors import customer_by_number


def api_customers() -> QuerySet[Customer]:
    """Integrations act for the whole business, so they see every customer (unlike sales staff)."""
    return Customer.objects.select_related("tier", "owner")


def customer_for_api(*, number: str) -> Customer | None:
    """By CRM number (any separators; merged numbers lead to the survivor) or legacy member number.

    Raises crm_number.InvalidCrmNumber on a wrong check digit.
    """
    return customer_by_number(text=number, queryset=api_customers())

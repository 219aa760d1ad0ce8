"""Reads the API shares: finding the customer an outside system means."""

from django.db.models import QuerySet

from customers.models import Customer
from customers.selectors import customer_by_number


def api_customers() -> QuerySet[Customer]:
    """Integrations act for the whole business, so they see every customer (unlike sales staff)."""
    return Customer.objects.select_related("tier")


def customer_for_api(*, number: str) -> Customer | None:
    """By CRM number (any separators; merged numbers lead to the survivor) or legacy member number.

    Raises crm_number.InvalidCrmNumber on a wrong check digit.
    """
    return customer_by_number(text=number, queryset=api_customers())


def customer_by_contact(*, phone: str = "", email: str = "") -> Customer | None:
    """The customer with this (already normalised) phone, else this e-mail."""
    if phone and (found := api_customers().filter(mobile=phone).first()):
        return found
    if email:
        return api_customers().filter(email=email.strip().lower()).first()
    return None

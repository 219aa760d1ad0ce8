"""Reads the API shares: finding the customer an outside system means."""

from django.db.models import QuerySet

from crm.api.models import UnmatchedMention
from customers.models import Customer
from customers.selectors import customer_by_number
from interactions.models import Interaction, InteractionChannel


def api_customers() -> QuerySet[Customer]:
    """Integrations act for the whole business, so they see every customer (unlike sales staff)."""
    return Customer.objects.select_related("tier", "owner")


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


def customer_by_handle(*, handle: str) -> Customer | None:
    """The customer whose social interactions came from this handle, most recently.

    Handles are learnt from earlier mentions (matched or assigned by staff). Interactions
    store no platform, so the same handle on two platforms is taken as one person.
    """
    if not handle:
        return None
    last = (
        Interaction.objects.filter(channel=InteractionChannel.SOCIAL, external_handle__iexact=handle)
        .order_by("-occurred_at", "-id")
        .values("customer_id")[:1]
    )
    return api_customers().filter(pk__in=last).first()


def mentions_waiting() -> QuerySet[UnmatchedMention]:
    """The queue staff work through: unassigned mentions, newest first."""
    return (
        UnmatchedMention.objects.filter(assigned_at=None).select_related("received_from").order_by("-posted_at", "-id")
    )

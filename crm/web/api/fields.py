"""Serializer fields shared by the endpoint modules."""

import datetime
import unicodedata

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.lib import crm_number
from crm.lib.dates import EARLIEST_DATE, LATEST_DATE
from crm.lib.phone import normalize_phone
from crm.web.api.selectors import customer_for_api
from customers.models import Customer

# Dates from outside systems stay within crm.lib.dates' range: far from Python's limits (years 1 and
# 9999), where a time-zone conversion or adding a day overflows.
EARLIEST, LATEST = EARLIEST_DATE, LATEST_DATE
BOUNDS_MESSAGE = _("Give a date between {earliest} and {latest}.")


class BoundedDateTimeField(serializers.DateTimeField):
    default_error_messages = {"bounds": BOUNDS_MESSAGE}

    def to_internal_value(self, value) -> datetime.datetime:
        try:
            parsed = super().to_internal_value(value)
        except OverflowError:  # DRF's time-zone check of a naive time in year 1 or 9999
            self.fail("bounds", earliest=EARLIEST, latest=LATEST)
        if not EARLIEST <= parsed.date() <= LATEST:
            self.fail("bounds", earliest=EARLIEST, latest=LATEST)
        return parsed


class BoundedDateField(serializers.DateField):
    default_error_messages = {"bounds": BOUNDS_MESSAGE}

    def to_internal_value(self, value) -> datetime.date:
        parsed = super().to_internal_value(value)
        if not EARLIEST <= parsed <= LATEST:
            self.fail("bounds", earliest=EARLIEST, latest=LATEST)
        return parsed


def _has_control_characters(text: str) -> bool:
    """NUL and other control characters (whitespace aside, it separates digit groups), or unpaired surrogates."""
    return any(unicodedata.category(ch) in ("Cc", "Cs") and not ch.isspace() for ch in text)


def member_by_number(number: str) -> Customer:
    """The member a CRM number names, or a serializers.ValidationError saying why not."""
    if _has_control_characters(number):
        # No CRM or legacy number holds one, and PostgreSQL refuses NUL in a query outright.
        raise serializers.ValidationError(_("A CRM number cannot contain control characters."), code="invalid")
    try:
        customer = customer_for_api(number=number)
    except crm_number.InvalidCrmNumber as e:
        raise serializers.ValidationError(
            _("%(number)s is not a valid CRM number: the check digit does not match (mistyped?).") % {"number": number},
            code="check_digit",
        ) from e
    if customer is None:
        raise serializers.ValidationError(
            _("No member has the CRM number %(number)s.") % {"number": number}, code="not_found"
        )
    return customer


@extend_schema_field(OpenApiTypes.STR)
class MemberField(serializers.Field):
    """A CRM number in (string or integer, separators allowed), the Customer out."""

    default_error_messages = {"invalid": _('Give the member\'s CRM number, e.g. "1000-0017".')}

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", _("CRM number, with or without separators (e.g. 1000-0017)."))
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> Customer:
        if isinstance(data, bool) or not isinstance(data, (str, int)):
            self.fail("invalid")
        text = str(data).strip()
        if not text or len(text) > 40:
            self.fail("invalid")
        return member_by_number(text)

    def to_representation(self, value: Customer) -> str:
        return str(value.crm_number)


class PhoneField(serializers.CharField):
    """A mobile number in any usual form, stored form (E.164) out."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 30)
        kwargs.setdefault("help_text", _("Mainland China mobile (13812345678) or international (+44...)."))
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> str:
        try:
            return normalize_phone(super().to_internal_value(data))
        except DjangoValidationError as e:
            raise serializers.ValidationError(e.messages) from e

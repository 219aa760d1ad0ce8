"""Small helpers for forms that hand their data to a service."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator

from crm.lib.dates import EARLIEST_DATE, LATEST_DATE


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: under the field it names if the form has it, else on top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


class BoundedDateField(forms.DateField):
    """A date within crm.lib.dates' range, with the range on the date picker too."""

    def __init__(self, *, min_value: datetime.date = EARLIEST_DATE, max_value: datetime.date = LATEST_DATE, **kwargs):
        super().__init__(**kwargs)
        self.validators += [MinValueValidator(min_value), MaxValueValidator(max_value)]
        self.widget.attrs.setdefault("min", min_value.isoformat())
        self.widget.attrs.setdefault("max", max_value.isoformat())

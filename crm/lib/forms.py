"""Small helpers for forms that hand their data to a service."""

import datetime
from functools import partial

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

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


class QuickSelect(forms.Select):
    """A select rendered in Python. Django renders a template per option (select_option.html, attrs.html),
    which was a third of the customer list's time for its few filter selects; the markup is the same."""

    def render(self, name, value, attrs=None, renderer=None) -> str:
        widget = self.get_context(name, value, attrs)["widget"]
        groups = []
        for group_name, options, _index in widget["optgroups"]:
            rendered = format_html_join(
                "", '<option value="{}"{}>{}</option>', ((o["value"], flatatt(o["attrs"]), o["label"]) for o in options)
            )
            if group_name:
                rendered = format_html('<optgroup label="{}">{}</optgroup>', group_name, rendered)
            groups.append(rendered)
        options = mark_safe("".join(groups))  # each part built by format_html above
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(widget["attrs"]), options)


def _model_choices(field: forms.ModelChoiceField) -> list[tuple[object, str]]:
    empty = [] if field.empty_label is None else [("", field.empty_label)]
    return empty + [(field.prepare_value(obj), field.label_from_instance(obj)) for obj in field.queryset]


def render_selects_quickly(form: forms.BaseForm) -> None:
    """Swap the form's plain selects for QuickSelect (for forms on busy pages: lists and their filters).

    A model choice's options come from one plain query: Django's iterator would open a server-side cursor
    (DECLARE, FETCH, CLOSE) for each select."""
    for field in form.fields.values():
        if type(field.widget) is not forms.Select:
            continue
        choices = field.widget.choices
        if isinstance(field, forms.ModelChoiceField):
            choices = partial(_model_choices, field)  # a callable: read when rendered, not when the form is built
        quick = QuickSelect(attrs=field.widget.attrs, choices=choices)
        quick.is_required = field.widget.is_required
        field.widget = quick

"""The dashboard's and reports' filters: the same forms check a page's query and each chart endpoint's, so a bad
parameter is a 400 with the reason at the endpoint and a message on the page, never a 500."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics.models import AgeBand
from crm.lib.dates import EARLIEST_DATE, LATEST_DATE
from customers.models import Category, Gender

MAX_RANGE_DAYS = 5 * 366


GRAINS = [("day", _("Day")), ("week", _("Week")), ("month", _("Month"))]


def default_range(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """The last 30 complete days, up to yesterday: what a manager looks at first thing in the morning. Today is
    left out: it is not over, and would pull every figure down against the full periods it is compared with."""
    yesterday = (today or timezone.localdate()) - datetime.timedelta(days=1)
    return yesterday - datetime.timedelta(days=29), yesterday


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", attrs={"class": "form-control form-control-sm"}, **kwargs)


def select() -> forms.Select:
    return forms.Select(attrs={"class": "form-select form-select-sm"})


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("To"), required=False, widget=DateInput())
    grain = forms.ChoiceField(label=_("By"), choices=GRAINS, required=False, widget=select())

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        default_start, default_end = default_range()
        start, end = data.get("start") or default_start, data.get("end") or default_end
        for name, day in (("start", start), ("end", end)):
            if not EARLIEST_DATE <= day <= LATEST_DATE:
                self.add_error(name, _("Pick a date between 1900 and 2100."))
                return data
        if start > end:
            raise forms.ValidationError(_("The start date is after the end date."), code="order")
        if (end - start).days > MAX_RANGE_DAYS:
            raise forms.ValidationError(_("Pick a range of at most five years."), code="too_long")
        data["start"], data["end"] = start, end
        # Grain by default: days up to three months, weeks up to a year, months beyond.
        span = (end - start).days
        data["grain"] = data.get("grain") or ("day" if span <= 92 else "week" if span <= 366 else "month")
        return data


class GeographyForm(forms.Form):
    """Who and what the fastest-growing regions are counted for: "where young women buy accessories"."""

    age_band = forms.ChoiceField(
        label=_("Age band"), choices=[("", _("Any age"))] + AgeBand.choices, required=False, widget=select()
    )
    gender = forms.ChoiceField(
        label=_("Gender"), choices=[("", _("Any gender"))] + Gender.choices, required=False, widget=select()
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.order_by("name"),
        required=False,
        empty_label=_("Any category"),
        widget=select(),
    )
    level = forms.ChoiceField(
        label=_("Regions"),
        choices=[("province", _("Provinces")), ("city", _("Cities"))],
        required=False,
        widget=select(),
    )

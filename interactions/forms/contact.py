import datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.lib.forms import BoundedDateField, add_service_errors
from interactions import services
from interactions.models import Direction, InteractionChannel, Outcome

SATISFACTION_CHOICES = [("", "—"), *[(str(n), "★" * n) for n in range(1, 6)]]


class InteractionForm(forms.Form):
    """Short enough to fill in on a phone in a few seconds: the first three fields have sensible defaults."""

    channel = forms.ChoiceField(
        label=_("Channel"), choices=InteractionChannel.choices, initial=InteractionChannel.PHONE
    )
    direction = forms.ChoiceField(label=_("Direction"), choices=Direction.choices, initial=Direction.INBOUND)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices, initial=Outcome.RESOLVED)
    subject = forms.CharField(label=_("Subject"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    satisfaction = forms.TypedChoiceField(
        label=_("Satisfaction"), choices=SATISFACTION_CHOICES, coerce=int, empty_value=None, required=False
    )
    follow_up_on = BoundedDateField(
        label=_("Follow up on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("You get a reminder at the start of that working day, or at the time you give."),
    )
    follow_up_time = forms.TimeField(
        label=_("At"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["follow_up_on"].widget.attrs["min"] = timezone.localdate().isoformat()
        self.helper = FormHelper()
        self.helper.form_tag = False  # the page's or the panel's <form> (customers/includes/form_panel.html)
        self.helper.layout = Layout(
            Row(
                Column("channel", css_class="col-6 col-md-4"),
                Column("direction", css_class="col-6 col-md-4"),
                Column("outcome", css_class="col-12 col-md-4"),
            ),
            "subject",
            "notes",
            Row(
                Column("satisfaction", css_class="col-6 col-md-4"),
                Column("follow_up_on", css_class="col-6 col-md-4"),
                Column("follow_up_time", css_class="col-6 col-md-4"),
            ),
            Submit("log", _("Log interaction"), css_class="w-100 w-md-auto"),
        )

    def clean(self) -> dict:
        # The service's rule, asked now so its error shows beside the form's own.
        cleaned_data = super().clean()
        if "follow_up_on" in cleaned_data:
            try:
                services.follow_up_validate(
                    follow_up_on=cleaned_data["follow_up_on"], follow_up_time=cleaned_data.get("follow_up_time")
                )
            except ValidationError as error:
                add_service_errors(self, error)
        return cleaned_data


class ReportForm(forms.Form):
    since = BoundedDateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = BoundedDateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    days = forms.IntegerField(
        label=_("Not contacted for (days)"), min_value=1, max_value=3650, initial=90, required=False
    )

    def period(self) -> tuple[datetime.date, datetime.date]:
        today = timezone.localdate()
        data = self.cleaned_data if self.is_valid() else {}
        until = data.get("until") or today
        since = data.get("since") or until - datetime.timedelta(days=29)
        return min(since, until), max(since, until)

    def not_contacted_days(self) -> int:
        return (self.cleaned_data.get("days") if self.is_valid() else None) or 90

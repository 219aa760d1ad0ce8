import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from interactions.services import follow_up_due_at

SNOOZE_CHOICES = [("hour", _("In an hour")), ("tomorrow", _("Tomorrow morning")), ("week", _("In a week"))]


class SnoozeForm(forms.Form):
    until = forms.ChoiceField(choices=SNOOZE_CHOICES)

    def until_time(self, now: datetime.datetime) -> datetime.datetime:
        choice = self.cleaned_data["until"]
        if choice == "hour":
            return now + datetime.timedelta(hours=1)
        days = 1 if choice == "tomorrow" else 7
        return follow_up_due_at(timezone.localdate(now) + datetime.timedelta(days=days))

"""The data-subject request pages: a customer's data export, and the erasure confirmed by typing the number."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from customers.services.erasure import REASON_MAX_LENGTH

EXPORT_FORMATS = [("html", _("Readable file (HTML)")), ("json", _("JSON"))]


class PersonalDataForm(forms.Form):
    format = forms.ChoiceField(label=_("Format"), choices=EXPORT_FORMATS, initial="html", widget=forms.RadioSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.add_input(Submit("download", _("Download")))


class EraseForm(forms.Form):
    confirm_number = forms.CharField(
        label=_("Type the customer's CRM number to confirm"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    reason = forms.CharField(
        label=_("Why (the request, or the rule it follows)"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.add_input(Submit("erase", _("Erase personal data for good"), css_class="btn-danger"))

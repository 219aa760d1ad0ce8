from django import forms
from django.utils.translation import gettext_lazy as _

from marketing.models import Segment

MAX_UPLOAD_BYTES = 32 * 1024 * 1024


class SegmentForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = ["name", "description"]
        widgets = {
            "name": forms.TextInput(attrs={"class": "form-control", "maxlength": 100}),
            "description": forms.TextInput(attrs={"class": "form-control", "maxlength": 255}),
        }


class FreezeForm(forms.Form):
    name = forms.CharField(label=_("Name of the list"), max_length=100)


class SegmentUploadForm(forms.ModelForm):
    file = forms.FileField(
        label=_("File"),
        help_text=_("A CSV or text file with one CRM number or mobile number per line (the first column is read)."),
    )

    class Meta:
        model = Segment
        fields = ["name", "description"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 32 MB."))
        if not upload.name.lower().endswith((".csv", ".txt")):
            raise forms.ValidationError(_("Upload a .csv or .txt file."))
        return upload


class WhyForm(forms.Form):
    number = forms.CharField(label=_("CRM number"), max_length=40)


class SegmentExportForm(forms.Form):
    format = forms.ChoiceField(label=_("Format"), choices=[("csv", "CSV"), ("xlsx", "Excel")])

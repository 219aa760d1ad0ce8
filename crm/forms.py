from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from crm.importers import Importer
from crm.lib.uploads import check_upload_size


class ImportUploadForm(forms.Form):
    importer = forms.ChoiceField(label=_("What to import"), widget=forms.RadioSelect)
    file = forms.FileField(
        label=_("CSV or Excel file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
        validators=[check_upload_size],
    )

    def __init__(self, *args, importers: list[Importer], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["importer"].choices = [(i.kind, i.label) for i in importers]
        self.fields["file"].help_text = _(
            "UTF-8 or GBK CSV, or xlsx, of at most %(limit)s MB. The first row holds the column names."
        ) % {"limit": settings.IMPORT_MAX_UPLOAD_MB}
        if len(importers) == 1:
            self.fields["importer"].initial = importers[0].kind


class ImportMappingForm(forms.Form):
    """One select per column of the uploaded file: which field it fills."""

    def __init__(self, *args, importer: Importer, headers: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.importer = importer
        choices = [("", _("(ignore)"))] + [(name, label) for name, (label, _aliases) in importer.fields.items()]
        initial = importer.guess_mapping(headers)
        for index, header in enumerate(headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header or f"#{index + 1}",
                choices=choices,
                required=False,
                initial=initial.get(index, ""),
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )

    def clean(self):
        mapping = self.mapping()
        used = list(mapping.values())
        if len(used) != len(set(used)):
            raise forms.ValidationError(_("Each field can be filled from one column only."))
        if errors := self.importer.mapping_errors(mapping):
            raise forms.ValidationError(errors)
        return self.cleaned_data

    def columns(self, preview: list[list[str]]) -> list[tuple[forms.BoundField, list[str]]]:
        """Each column's select with the column's cells in the preview rows, for a page that lists the columns."""
        return [
            (self[name], [row[index] if index < len(row) else "" for row in preview])
            for index, name in enumerate(name for name in self.fields if name.startswith("col_"))
        ]

    def mapping(self) -> dict[int, str]:
        return {int(k[4:]): v for k, v in self.cleaned_data.items() if k.startswith("col_") and v}


class TwoFactorCodeForm(forms.Form):
    """A code from the authenticator app (6 digits) or a backup code (8 letters and digits)."""

    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("The 6-digit code your authenticator app shows, or one of your backup codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )

    def __init__(self, *args, enrolling: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if enrolling:  # no backup codes yet
            self.fields["code"].help_text = _("The 6-digit code your authenticator app shows now.")
            self.fields["code"].widget.attrs["inputmode"] = "numeric"

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from customers.services.merge import PICKABLE, Pick, merge_default_pick


class MergeForm(forms.Form):
    """Which of two customers to keep, and for each detail in PICKABLE whose value survives.

    Every choice names a customer by CRM number, so what was ticked survives whichever record is kept.
    A detail left out takes the default (the kept one's value, or the other's where it is blank).
    """

    def __init__(self, *args, first: Customer, second: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.pair = (first, second)
        choices = [(str(c.crm_number), c.crm_number_display) for c in self.pair]
        self.fields["keep"] = forms.ChoiceField(
            label=_("Customer to keep"), choices=choices, widget=forms.RadioSelect, initial=choices[0][0]
        )
        for field in PICKABLE:
            default = first if merge_default_pick(survivor=first, other=second, field=field) == "survivor" else second
            self.fields[f"pick_{field}"] = forms.ChoiceField(
                label=Customer._meta.get_field(field).verbose_name,
                choices=choices,
                widget=forms.RadioSelect,
                required=False,
                initial=str(default.crm_number),
            )

    def clean(self):
        cleaned = super().clean()
        if any(key.startswith("pick_") and key not in self.fields for key in self.data):
            raise ValidationError(_("Only the details shown can be chosen."), code="invalid_pick")
        return cleaned

    def chosen(self, field: str) -> str:
        """The CRM number whose value the page shows as chosen for `field` (as posted, else the default)."""
        value = self[f"pick_{field}"].value()
        return str(value) if value else str(self.fields[f"pick_{field}"].initial)

    def survivor_and_other(self) -> tuple[Customer, Customer]:
        first, second = self.pair
        return (first, second) if self.cleaned_data["keep"] == str(first.crm_number) else (second, first)

    def picks(self) -> dict[str, Pick]:
        survivor, _other = self.survivor_and_other()
        return {
            field: "survivor" if self.cleaned_data[f"pick_{field}"] == str(survivor.crm_number) else "other"
            for field in PICKABLE
            if self.cleaned_data.get(f"pick_{field}")
        }

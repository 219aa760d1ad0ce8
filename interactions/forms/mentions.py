from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext_lazy as _

from crm.lib import crm_number
from customers.models import Customer
from customers.selectors import customer_by_number, customers_visible_to


class MentionAssignForm(forms.Form):
    customer = forms.CharField(
        label=_("CRM number"), max_length=40, widget=forms.TextInput(attrs={"placeholder": "1000-0017"})
    )

    def __init__(self, *args, user: AbstractBaseUser, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_customer(self) -> Customer:
        text = self.cleaned_data["customer"]
        try:
            customer = customer_by_number(text=text, queryset=customers_visible_to(self.user).select_related("owner"))
        except crm_number.InvalidCrmNumber as e:
            raise forms.ValidationError(_("The check digit does not match: please check the number.")) from e
        if customer is None:
            raise forms.ValidationError(_("No customer has this CRM number."))
        return customer

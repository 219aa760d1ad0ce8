from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from crm.lib.forms import BoundedDateField
from customers import personal
from customers.models import PROFILE_FIELDS, Customer
from customers.selectors import customer_duplicates, customer_owners, customers_visible_to

HIDDEN_DUPLICATE = {
    "mobile": _("Another customer, outside your book, already has this mobile phone."),
    "email": _("Another customer, outside your book, already has this e-mail."),
}


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = [
            "name",
            *PROFILE_FIELDS,
            "source",
            "registered_on",
            "owner",
            "tier",
            "tags",
            "preferred_categories",
            "legacy_number",
            "email_opt_in",
            "sms_opt_in",
            "notes",
            "id_type",
            "id_number",
        ]
        # The birthday's range is the model's rule (not before 1900, not in the future), for imports and the API too.
        field_classes = {"registered_on": BoundedDateField}
        widgets = {
            "birthday": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "registered_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "mobile": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "id_number": forms.TextInput(attrs={"autocomplete": "off", "maxlength": 40}),
            "tags": forms.CheckboxSelectMultiple,
            "preferred_categories": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user.has_perm("customers.view_all_customers"):
            self.fields["owner"].queryset = customer_owners()
        else:
            # Staff who only see their own book can only put customers in it.
            del self.fields["owner"]
        if not personal.can_see(user):
            # What one may not see, one may not edit (nor learn from the form's initial values).
            for name in [*personal.MASKED_FIELDS, "id_type"]:
                del self.fields[name]
        else:
            # Write-only: the stored number is never put back in the page; empty keeps it.
            self.initial["id_number"] = ""
            if self.instance.id_number:
                self.fields["id_number"].help_text = _("On file: %(masked)s. Leave empty to keep it.") % {
                    "masked": personal.masked(self.instance, "id_number")
                }
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(
                _("Profile"),
                self._row(("name", "col-md-6"), ("gender", "col-6 col-md-3"), ("birthday", "col-6 col-md-3")),
                self._row(("mobile", "col-md-6"), ("email", "col-md-6")),
                self._row(("occupation", "col-md-6"), ("company", "col-md-6")),
                self._row(("province", "col-6 col-md-3"), ("city", "col-6 col-md-3"), ("address", "col-md-6")),
                self._row(("id_type", "col-md-6"), ("id_number", "col-md-6")),
            ),
            Fieldset(
                _("Membership"),
                Row(
                    Column("source", css_class="col-md-4"),
                    Column("registered_on", css_class="col-md-4"),
                    Column("legacy_number", css_class="col-md-4"),
                ),
                Row(*[Column(f, css_class="col-md-6") for f in ("owner", "tier") if f in self.fields]),
                Row(Column("tags", css_class="col-md-6"), Column("preferred_categories", css_class="col-md-6")),
            ),
            Fieldset(_("Consent"), Row(Column("email_opt_in"), Column("sms_opt_in"))),
            "notes",
        )
        self.helper.add_input(Submit("save", _("Save")))

    def initial_personal_fields(self) -> list[str]:
        """The personal fields this form shows with their stored value (the ID number never is)."""
        return [name for name in personal.MASKED_FIELDS if name in self.fields and name != "id_number"]

    def _row(self, *columns: tuple[str, str]) -> Row:
        return Row(*[Column(name, css_class=css) for name, css in columns if name in self.fields])

    def clean(self):
        data = super().clean()
        if "id_number" in self.fields and not data.get("id_number") and data.get("id_type"):
            data["id_number"] = self.instance.id_number  # left empty: keep the one on file (no type: none)
        return data

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        if "owner" not in self.fields and self.instance.pk is None:
            data["owner"] = self.user
        return data

    def duplicates(self):
        """Existing customers that made this form fail, for links on the page (those the user may see)."""
        if not self.is_bound or "mobile" not in self.errors and "email" not in self.errors:
            return []
        found = {c.pk: c for _, c in self._duplicates()}
        visible = set(customers_visible_to(self.user).filter(pk__in=found).values_list("pk", flat=True))
        return [c for pk, c in found.items() if pk in visible]

    def _duplicates(self):
        return customer_duplicates(
            mobile=self.instance.mobile, email=self.instance.email or "", exclude_pk=self.instance.pk
        )

    def add_error(self, field, error):
        super().add_error(field, error)
        # A phone or e-mail stays unique across every book, but staff who see only their own are not told
        # whose it is: typing numbers into this form must not reveal another owner's customers.
        if self.user.has_perm("customers.view_all_customers") or not {"mobile", "email"} & self._errors.keys():
            return
        found = [(name, other.pk) for name, other in self._duplicates() if name in self._errors]
        seen = customers_visible_to(self.user).filter(pk__in=[pk for _, pk in found])
        visible = set(seen.values_list("pk", flat=True))
        for name, pk in found:
            if pk not in visible:
                self._errors[name] = self.error_class([HIDDEN_DUPLICATE[name]])


class ExportForm(forms.Form):
    query = forms.CharField(required=False, max_length=2000)
    format = forms.ChoiceField(choices=[("csv", "CSV"), ("xlsx", "Excel (xlsx)")])

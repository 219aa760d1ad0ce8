import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.forms.utils import pretty_name
from django.utils.dates import MONTHS
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from crm.lib.forms import render_selects_quickly
from customers import personal
from customers.models import Customer, Source, Tag, Tier
from customers.selectors import customer_owners, customers_filtered


class SortFilter(django_filters.OrderingFilter):
    """Sort choices whose "descending" is translated when shown, not once when the module is imported."""

    def build_choices(self, fields: dict, labels: dict) -> list:
        ascending = [(param, labels.get(field, pretty_name(param))) for field, param in fields.items()]
        descending = [(f"-{param}", format_lazy("{} ({})", label, _("descending"))) for param, label in ascending]
        return [choice for pair in zip(ascending, descending, strict=True) for choice in pair]


SORT_FIELDS = (
    ("crm_number", "crm_number"),
    ("name", "name"),
    ("registered_on", "registered_on"),
    ("points_balance", "points_balance"),
    ("birthday", "birthday"),
)
SORT_LABELS = {
    "crm_number": _("CRM number"),
    "name": _("Name"),
    "registered_on": _("Registration date"),
    "points_balance": _("Points"),
    "birthday": _("Birthday"),
}


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"))
    tier = django_filters.ModelChoiceFilter(queryset=Tier.objects.all(), label=_("Tier"))
    province = django_filters.CharFilter(label=_("Province"))
    city = django_filters.CharFilter(label=_("City"))
    owner = django_filters.ModelChoiceFilter(queryset=get_user_model().objects.none(), label=_("Owner"))
    tag = django_filters.ModelChoiceFilter(field_name="tags", queryset=Tag.objects.all(), label=_("Tag"))
    source = django_filters.ChoiceFilter(choices=Source.choices, label=_("Source"))
    birthday_month = django_filters.ChoiceFilter(
        field_name="birthday", lookup_expr="month", choices=sorted(MONTHS.items()), label=_("Birthday month")
    )
    sort = SortFilter(fields=SORT_FIELDS, field_labels=SORT_LABELS, label=_("Sort by"))

    class Meta:
        model = Customer
        fields = []

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.contacts = personal.can_see(user)
        if not self.contacts:
            # Sorting by the birthday would order the years that the mask hides.
            fields = tuple(pair for pair in SORT_FIELDS if pair[0] != "birthday")
            self.filters["sort"] = SortFilter(fields=fields, field_labels=SORT_LABELS, label=_("Sort by"))
            self.filters["sort"].model = self._meta.model
        if user.has_perm("customers.view_all_customers"):
            self.filters["owner"].queryset = customer_owners()
        else:
            del self.filters["owner"]
        render_selects_quickly(self.form)
        for f in self.form.fields.values():
            if isinstance(f.widget, forms.Select):
                f.widget.attrs["class"] = "form-select form-select-sm"
            else:
                f.widget.attrs["class"] = "form-control form-control-sm"

    def filter_queryset(self, queryset):
        # The declared filters parse and validate; the filtering itself is the selector's, shared with exports.
        return customers_filtered(queryset, filters=self.plain_filters(), contacts=self.contacts)

    def plain_filters(self) -> dict:
        """The valid filters as plain values (ids, not rows), for the selector and a job's params."""
        plain = {}
        for name, value in self.form.cleaned_data.items():
            if value in (None, "", []):
                continue
            plain[name] = value.pk if hasattr(value, "pk") else int(value) if name == "birthday_month" else value
        return plain

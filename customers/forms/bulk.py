from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from crm.lib.forms import render_selects_quickly
from crm.lib.text import validate_single_line
from customers.filters import CustomerFilter
from customers.models import Customer, Tag
from customers.selectors import customer_owners
from customers.services.bulk import MAX_IDS, BulkAction, bulk_actions_for

PG_BIGINT_MAX = 2**63 - 1


class IdListField(forms.Field):
    """The ids of the ticked rows: whole numbers a database id can be, at most MAX_IDS of them."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": _("The ticked rows could not be read; please tick them again.")}

    def to_python(self, value: list[str] | None) -> list[int]:
        if not value:
            return []
        if not isinstance(value, (list, tuple)) or len(value) > MAX_IDS:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            ids = [int(v) for v in value]
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if any(not 0 < pk <= PG_BIGINT_MAX for pk in ids):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return sorted(set(ids))


class BulkForm(forms.Form):
    """A bulk action on the customer list: which action, on which customers (ticked rows or the whole
    filter, given by the list's query string), and its value (a tag, an owner, a file format)."""

    SELECTED, ALL = "selected", "all"

    action = forms.ChoiceField(label=_("Action"), choices=BulkAction.choices)
    scope = forms.ChoiceField(
        label=_("Apply to"), choices=[(SELECTED, _("Ticked rows")), (ALL, _("All matching"))], initial=SELECTED
    )
    ids = IdListField(required=False)
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
    tag = forms.CharField(
        label=_("Tag"),
        required=False,
        max_length=Tag._meta.get_field("name").max_length,
        validators=[validate_single_line],
    )
    owner = forms.ModelChoiceField(
        label=_("New owner"), queryset=customer_owners().none(), required=False, empty_label=_("New owner…")
    )
    # Worded so that without JS, when every field shows, each says what it is for.
    format = forms.ChoiceField(
        label=_("Export format"),
        choices=[("csv", _("Export as CSV")), ("xlsx", _("Export as Excel (xlsx)"))],
        initial="csv",
        required=False,
    )

    def __init__(self, *args, user: AbstractBaseUser, total: int | None = None, estimate: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        allowed = bulk_actions_for(user)
        self.allowed = [a.value for a in allowed]
        self.fields["action"].choices = [("", _("Choose an action…"))] + [(a.value, a.label) for a in allowed]
        if BulkAction.REASSIGN in allowed:
            self.fields["owner"].queryset = customer_owners()
        if total is not None:
            # The list's count, so the choice says how many "all" is.
            self.fields["scope"].choices = [
                (self.SELECTED, _("Ticked rows")),
                (
                    self.ALL,
                    (_("All matching (about %(count)s)") if estimate else _("All %(count)s matching"))
                    % {"count": f"{total:,}"},
                ),
            ]
        render_selects_quickly(self)
        for name, field in self.fields.items():
            css = (
                "form-select form-select-sm"
                if isinstance(field.widget, forms.Select)
                else "form-control form-control-sm"
            )
            field.widget.attrs.setdefault("class", css)
            field.widget.attrs["id"] = f"bulk-{name}"
        self.fields["tag"].widget.attrs.update(list="bulk-tags", autocomplete="off", placeholder=_("Tag"))

    def clean(self) -> dict:
        data = super().clean()
        action = data.get("action")
        if action is None:
            return data
        if data.get("scope") == self.SELECTED and not data.get("ids") and "ids" not in self.errors:
            raise forms.ValidationError(_("Tick at least one customer, or choose all matching."))
        if data.get("scope") == self.ALL:
            filterset = CustomerFilter(
                QueryDict(data.get("query", "")), queryset=Customer.objects.none(), user=self.user
            )
            # The list leaves an invalid filter out and shows everyone; a bulk change must not (a tag deleted
            # since the page was shown would otherwise widen "all matching" to every customer).
            if not filterset.is_valid():
                raise forms.ValidationError(_("The filter is no longer valid; please filter the list again."))
            data["filters"] = filterset.plain_filters()
        if action in (BulkAction.TAG_ADD, BulkAction.TAG_REMOVE):
            self._clean_tag(data, create=action == BulkAction.TAG_ADD)
        if action == BulkAction.REASSIGN and not data.get("owner") and "owner" not in self.errors:
            self.add_error("owner", _("Choose the new owner."))
        if action == BulkAction.EXPORT and not data.get("format"):
            data["format"] = "csv"
        return data

    def _clean_tag(self, data: dict, *, create: bool) -> None:
        name = (data.get("tag") or "").strip()
        if "tag" in self.errors:
            return
        if not name:
            self.add_error("tag", _("Name the tag."))
            return
        data["tag_object"] = Tag.objects.filter(name=name).first()
        if data["tag_object"] is None and not (create and self.user.has_perm("customers.add_tag")):
            self.add_error("tag", _("There is no tag “%(name)s”.") % {"name": name})

    def filters(self) -> dict:
        """The selection as plain values: the ticked ids, or the list's filters parsed from its query string."""
        if self.cleaned_data["scope"] == self.SELECTED:
            return {"ids": self.cleaned_data["ids"]}
        return self.cleaned_data["filters"]

    def list_query(self) -> str:
        """The list's query string, re-encoded (safe in a redirect whatever was posted)."""
        query = QueryDict(self.data.get("query", "")[:2000], mutable=True)
        query.pop("page", None)
        return query.urlencode()

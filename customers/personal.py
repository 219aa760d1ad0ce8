"""The customer's personal fields and who sees them how: the one home of the masking rule.

Every page, export, preview and admin list shows these fields through `masked` and `clear` (or the `personal`
template tags over them). A user without `customers.view_contact_details` gets the masked form and nothing else;
a user with it gets the masked form too, plus a "Show" button on the customer's own page that reveals one field
at a time and records it (customers.services.personal). Lists show the masked form to everyone: a list is where
many people's data is on screen at once, and whoever needs a number is working one customer and opens them.

PERSONAL_FIELDS, below, is what an erasure blanks: these and the rest that identifies the person or was typed
about them; the audit trail records their values masked (`audit_masked`).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crm.lib.masking import mask_address, mask_birthday, mask_email, mask_id, mask_phone, mask_text
from crm.lib.phone import display_phone
from customers.models import Customer

PERMISSION = "customers.view_contact_details"


@dataclass(frozen=True)
class PersonalField:
    name: str  # the Customer field
    label: Promise
    mask: Callable[[object], str]
    clear: Callable[[object], str]  # the value as a page shows it in full


MASKED_FIELDS: dict[str, PersonalField] = {
    field.name: field
    for field in (
        PersonalField("mobile", _("Mobile"), mask_phone, display_phone),
        PersonalField("email", _("E-mail"), mask_email, str),
        PersonalField("birthday", _("Birthday"), mask_birthday, lambda d: date_format(d, "DATE_FORMAT") if d else ""),
        PersonalField("address", _("Address"), mask_address, str),
        PersonalField("id_number", _("ID number"), mask_id, str),
    )
}


def can_see(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Whether the user may see personal fields in clear (by revealing them, or in an export)."""
    return user is not None and user.has_perm(PERMISSION)


def masked(customer: Customer, field: str) -> str:
    spec = MASKED_FIELDS[field]
    return spec.mask(getattr(customer, field))


def mask_value(field: str, value: object) -> str:
    """A value of one of these fields held elsewhere (the address a message went to), masked the same way."""
    return MASKED_FIELDS[field].mask(value)


def clear(customer: Customer, field: str) -> str:
    spec = MASKED_FIELDS[field]
    value = getattr(customer, field)
    return spec.clear(value) if value else ""


# What identifies the person, or was typed about them: erasure blanks it all. Gender, province and city stay on
# an erased member: alone they identify no one, and the dashboards' breakdowns by them must keep adding up.
PERSONAL_FIELDS = ["name", *MASKED_FIELDS, "id_type", "occupation", "company", "legacy_number", "notes"]

# What an erased member's name becomes: stored as is (a name is required), shown translated where the customer's
# page and the request pages see `is_erased`.
ERASED_NAME = "Erased member"

# Each field's value after an erasure (a name is required, the legacy number unique when set).
ERASED_VALUES: dict[str, object] = {field: "" for field in PERSONAL_FIELDS} | {
    "name": ERASED_NAME,
    "birthday": None,
    "legacy_number": None,
    "id_number_index": "",
}


def audit_masked(field: str, value: object) -> object:
    """A field's audit value (customers.services.customers.audit_value's output) masked when it is personal."""
    if field not in PERSONAL_FIELDS or value in (None, "", True, False):
        return value
    text = str(value)
    if field in ("mobile", "email", "id_number"):
        return MASKED_FIELDS[field].mask(text)
    if field == "birthday":
        return "****"
    return mask_text(text)

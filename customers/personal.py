"""Which of a customer's fields are personal data, in one place: erasure anonymises them, and the audit
trail (append-only, so never rewritten later) records their values masked instead of in clear."""

from crm.lib.masking import mask_email, mask_phone, mask_text
from customers.models import Customer

# What identifies the person, or was typed about them. Gender, province and city stay on an erased member:
# alone they identify no one, and the dashboards' breakdowns by them must keep adding up.
PERSONAL_FIELDS = [
    "name",
    "mobile",
    "email",
    "birthday",
    "address",
    "occupation",
    "company",
    "legacy_number",
    "notes",
    # An encrypted ID number, once the model has one.
    *(["id_number"] if any(f.name == "id_number" for f in Customer._meta.get_fields()) else []),
]

# What an erased member's name becomes: stored as is (a name is required), shown translated where the customer's
# page and the request pages see `is_erased`.
ERASED_NAME = "Erased member"

# Each field's value after an erasure (a name is required, the legacy number unique when set).
ERASED_VALUES: dict[str, object] = {field: "" for field in PERSONAL_FIELDS} | {
    "name": ERASED_NAME,
    "birthday": None,
    "legacy_number": None,
    **({"id_number": ""} if "id_number" in PERSONAL_FIELDS else {}),
}


def audit_masked(field: str, value: object) -> object:
    """A field's audit value (customers.services.customers.audit_value's output) masked when it is personal."""
    if field not in PERSONAL_FIELDS or value in (None, "", True, False):
        return value
    text = str(value)
    if field == "mobile":
        return mask_phone(text)
    if field == "email":
        return mask_email(text)
    if field == "birthday":
        return "****"
    return mask_text(text)

"""Revealing a masked personal field: a deliberate click, recorded in the audit trail (the field, never the value)."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from crm.audit import audit_record
from crm.models import AuditAction
from customers.models import Customer
from customers.personal import MASKED_FIELDS, can_see


def personal_field_reveal(*, customer: Customer, field: str, actor: AbstractBaseUser) -> str:
    """The field's value in clear, and an audit entry saying who revealed which field of whom.

    PermissionDenied without the permission, ValidationError for a field that is not a personal one; neither
    records anything. An empty field reveals nothing and is not recorded either."""
    if not can_see(actor):
        raise PermissionDenied
    if field not in MASKED_FIELDS:
        raise ValidationError(_("No such field."))
    value = getattr(customer, field)
    if value:
        audit_record(action=AuditAction.REVEAL, actor=actor, customer_id=customer.pk, changes={"field": field})
    return value


def personal_fields_opened(*, customer: Customer, actor: AbstractBaseUser, fields: list[str]) -> None:
    """Record that an edit form put these personal fields in clear before `actor` (the ones with a value)."""
    shown = [field for field in fields if field in MASKED_FIELDS and getattr(customer, field)]
    if shown:
        audit_record(
            action=AuditAction.REVEAL, actor=actor, customer_id=customer.pk, changes={"fields": shown, "form": True}
        )

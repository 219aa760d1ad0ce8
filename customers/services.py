"""Every write to customers goes through here: views, admin, imports, API and tasks."""

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import (
    AuditAction,
    AuditEvent,
    Category,
    ConsentChannel,
    ConsentEvent,
    ConsentMethod,
    Customer,
    Tag,
)

CONSENT_FIELDS = {ConsentChannel.EMAIL: "email_opt_in", ConsentChannel.SMS: "sms_opt_in"}
AUDIT_IGNORED = {"updated_at"}


def audit_record(
    *, actor: AbstractBaseUser | None, customer: Customer | None, action: AuditAction, changes: dict | None = None
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=_user(actor),
        customer=customer,
        action=action,
        changes=changes or {},
    )


def _save_validated(customer: Customer) -> None:
    customer.full_clean()
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as e:
        # Two desks saving the same phone at once: the constraint is the referee.
        raise ValidationError(str(customer._meta.verbose_name) + ": " + str(e).splitlines()[0]) from e
    customer.refresh_from_db(fields=["crm_number"])


@transaction.atomic
def customer_create(
    *,
    actor: AbstractBaseUser | None,
    consent_method: ConsentMethod = ConsentMethod.FORM,
    tags: Iterable[Tag] = (),
    preferred_categories: Iterable[Category] = (),
    **fields: Any,
) -> Customer:
    customer = Customer(**fields)
    _save_validated(customer)
    customer.tags.set(tags)
    customer.preferred_categories.set(preferred_categories)
    for channel, field in CONSENT_FIELDS.items():
        if getattr(customer, field):
            ConsentEvent.objects.create(
                customer=customer, channel=channel, granted=True, method=consent_method, recorded_by=_user(actor)
            )
    audit_record(actor=actor, customer=customer, action=AuditAction.CREATE)
    return customer


@transaction.atomic
def customer_update(
    *,
    customer: Customer,
    actor: AbstractBaseUser | None,
    consent_method: ConsentMethod = ConsentMethod.FORM,
    tags: Iterable[Tag] | None = None,
    preferred_categories: Iterable[Category] | None = None,
    **fields: Any,
) -> Customer:
    before = {name: getattr(customer, name) for name in fields}
    for name, value in fields.items():
        setattr(customer, name, value)
    _save_validated(customer)
    changes = {
        name: [_jsonable(before[name]), _jsonable(getattr(customer, name))]
        for name in fields
        if before[name] != getattr(customer, name) and name not in AUDIT_IGNORED
    }
    if tags is not None:
        old = set(customer.tags.values_list("name", flat=True))
        customer.tags.set(tags)
        new = {t.name for t in tags}
        if old != new:
            changes["tags"] = [sorted(old), sorted(new)]
    if preferred_categories is not None:
        customer.preferred_categories.set(preferred_categories)
    for channel, field in CONSENT_FIELDS.items():
        if field in changes:
            ConsentEvent.objects.create(
                customer=customer,
                channel=channel,
                granted=getattr(customer, field),
                method=consent_method,
                recorded_by=_user(actor),
            )
    if changes:
        audit_record(actor=actor, customer=customer, action=AuditAction.UPDATE, changes=changes)
    return customer


@transaction.atomic
def consent_set(
    *,
    customer: Customer,
    channel: ConsentChannel,
    granted: bool,
    method: ConsentMethod,
    actor: AbstractBaseUser | None = None,
    note: str = "",
) -> ConsentEvent | None:
    """Record a grant or withdrawal; nothing happens if the state is already so."""
    field = CONSENT_FIELDS[channel]
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if getattr(locked, field) == granted:
        return None
    Customer.objects.filter(pk=customer.pk).update(**{field: granted, "updated_at": timezone.now()})
    setattr(customer, field, granted)
    return ConsentEvent.objects.create(
        customer=customer, channel=channel, granted=granted, method=method, note=note, recorded_by=_user(actor)
    )


def _user(actor):
    return actor if actor is not None and actor.is_authenticated else None


def _jsonable(value):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)

"""Erasure of a customer's personal data, on request or when the retention period has passed.

The row stays, anonymised, so every purchase, points entry and coupon still belongs to a member and every
total, report and campaign result stays right; what identifies the person goes. Other apps blank what they
hold through the `customer_erased` signal (customers/signals.py), inside the same transaction: a failure in
any of them leaves the customer as they were.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.audit import audit_record
from crm.lib import crm_number
from crm.lib.users import acting_user
from crm.models import AuditAction
from customers.models import ConsentEvent, ConsentMethod, Customer, MergeRecord, PointsEntry, TierChange
from customers.personal import ERASED_NAME, ERASED_VALUES, PERSONAL_FIELDS
from customers.services.customers import CONSENT_FIELDS
from customers.services.merge import PICKABLE
from customers.signals import customer_erased

REASON_MAX_LENGTH = 500
# Typed by staff into a ledger entry's or tier change's reason: may name the person.
TYPED_REASON_KEYS = ("text", "note")


def _confirmed(customer: Customer, confirm_number: object) -> bool:
    try:
        return crm_number.parse(str(confirm_number or "")) == customer.crm_number
    except crm_number.InvalidCrmNumber:
        return False


@transaction.atomic
def customer_erase(
    *, customer: Customer, actor: AbstractBaseUser | None, confirm_number: str | int, reason: str
) -> bool:
    """Anonymise the customer for good; False (and nothing written) when they were erased already.

    `confirm_number` must be the customer's CRM number, typed (any separators): a ValidationError otherwise,
    with nothing changed. Written with UPDATE rather than a validated save: an erasure must go through even
    when a stored value fails a rule tightened since it was saved.
    """
    reason = str(reason or "").strip()[:REASON_MAX_LENGTH]
    if not _confirmed(customer, confirm_number):
        raise ValidationError(
            {"confirm_number": _("Type this customer's CRM number exactly to confirm the erasure.")},
            code="not_confirmed",
        )
    stored = Customer.objects.select_for_update().get(pk=customer.pk)
    if stored.erased_at is not None:
        return False
    now = timezone.now()
    erased_fields = [f for f in PERSONAL_FIELDS if getattr(stored, f) not in (None, "")]
    if stored.tags.exists():
        erased_fields.append("tags")
    if stored.preferred_categories.exists():
        erased_fields.append("preferred_categories")
    Customer.objects.filter(pk=stored.pk).update(
        **ERASED_VALUES,
        **dict.fromkeys(CONSENT_FIELDS.values(), False),
        erased_at=now,
        updated_at=now,
    )
    stored.tags.clear()
    stored.preferred_categories.clear()

    # Consent withdrawn on every channel, in the history too: the latest event is what a merge and the
    # consent pages read.
    user = acting_user(actor)
    ConsentEvent.objects.filter(customer=stored).exclude(note="").update(note="")
    ConsentEvent.objects.bulk_create(
        ConsentEvent(customer=stored, channel=channel, granted=False, method=ConsentMethod.ERASURE, recorded_by=user)
        for channel in CONSENT_FIELDS
    )
    _blank_history(stored)
    stored.refresh_from_db()
    customer_erased.send(sender=Customer, customer=stored)
    audit_record(
        actor=actor,
        customer_id=stored.pk,
        action=AuditAction.ERASE,
        # The names of what was erased, never its values.
        changes={"fields": erased_fields, "reason": reason},
    )
    customer.refresh_from_db()
    return True


def _blank_history(customer: Customer) -> None:
    """What this app keeps about the person in free text: merge records' details of the customers merged into
    this one (they are this person too), and reasons staff typed into the ledger."""
    personal_snapshot = set(PICKABLE) | {"notes"}
    for record in MergeRecord.objects.filter(survivor=customer):
        record.snapshot = {k: v for k, v in record.snapshot.items() if k not in personal_snapshot}
        record.merged_name = ERASED_NAME
        record.save(update_fields=["snapshot", "merged_name"])
    typed = Q()
    for key in TYPED_REASON_KEYS:
        typed |= Q(reason_params__has_key=key)
    for model in (PointsEntry, TierChange):
        for row in model.objects.filter(typed, customer=customer):
            row.reason_params = {k: v for k, v in row.reason_params.items() if k not in TYPED_REASON_KEYS}
            row.save(update_fields=["reason_params"])

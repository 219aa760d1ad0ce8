"""Likely duplicates, and merging two customers into one.

A merge moves everything that points at the other customer (transactions,
points, consent history, audit trail and whatever later apps add) to the
survivor by walking the model's reverse relations, so apps that read customers
need no merge code of their own; only rows that cannot simply move need a
`customer_merging` receiver (customers/signals.py). The other CRM number keeps
resolving to the survivor through its MergeRecord.
"""

from collections.abc import Mapping
from typing import Literal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from crm.audit import audit_record
from crm.lib.users import acting_user
from crm.models import AuditAction
from customers.models import (
    PROFILE_FIELDS,
    ConsentEvent,
    Customer,
    Gender,
    MergeRecord,
    TierChange,
    TierChangeKind,
    TierChangeReason,
)
from customers.services import membership
from customers.services.customers import CONSENT_FIELDS, audit_pair, audit_value
from customers.signals import customer_merged, customer_merging

# The details staff pick field by field on a merge: by default the survivor's value, or the other's where
# the survivor's is blank.
PICKABLE = ["name", *PROFILE_FIELDS, "legacy_number"]
SNAPSHOT = [*PICKABLE, "points_balance", "registered_on", "source", "notes"]

Pick = Literal["survivor", "other"]


def merge_blank(customer: Customer, field: str) -> bool:
    """No value worth keeping (a gender "not given" counts as blank)."""
    value = getattr(customer, field)
    return not value or (field == "gender" and value == Gender.UNKNOWN)


def merge_default_pick(*, survivor: Customer, other: Customer, field: str) -> Pick:
    return "other" if merge_blank(survivor, field) and not merge_blank(other, field) else "survivor"


def _check_picks(picks: Mapping[str, str]) -> None:
    unknown = sorted(f for f in picks if f not in PICKABLE)
    wrong = sorted(f for f, side in picks.items() if f in PICKABLE and side not in ("survivor", "other"))
    if unknown or wrong:
        raise ValidationError(_("Choose, for each detail offered, whose value to keep."), code="invalid_pick")


def customer_duplicate_candidates(
    customer: Customer, *, queryset: QuerySet[Customer], limit: int = 10
) -> list[Customer]:
    """Others that are likely the same person: same name, or same birthday with a name sharing a part."""
    name = customer.name.strip()
    q = Q(name__iexact=name)
    if customer.birthday:
        q |= Q(birthday=customer.birthday) & (Q(name__icontains=name[:2]) | Q(name__icontains=name[-2:]))
    return list(queryset.filter(q).exclude(pk=customer.pk).select_related("tier")[:limit])


def duplicate_groups(*, queryset: QuerySet[Customer]) -> QuerySet:
    """(name, birthday, count) for every name and birthday shared by more than one customer."""
    return (
        queryset.exclude(birthday=None)
        .annotate(lname=Lower("name"))
        .values("lname", "birthday")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .order_by("-n", "lname")
    )


def _delete_merged(other: Customer) -> None:
    """The one place a customer row is deleted: its rows have all moved to the survivor. A trigger (customers
    migration 0016_erasure_and_no_hard_delete) refuses any other DELETE of a customer; this one says, for its
    own statement only, that it is a merge's. Everywhere else a customer leaves by erasure (services.erasure)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('crm.customer_merging', 'on', true)")
    other.delete()
    # SET LOCAL lasts to the end of the outermost transaction: switched off again at once, so nothing else later
    # in a caller's transaction may delete a customer. (A failed delete rolls the setting back with it.)
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('crm.customer_merging', 'off', true)")


@transaction.atomic
def customer_merge(
    *,
    survivor: Customer,
    other: Customer,
    actor: AbstractBaseUser | None,
    picks: Mapping[str, Pick] | None = None,
) -> MergeRecord:
    """Merge `other` into `survivor`. `picks` says, per detail in PICKABLE, whose value survives;
    a detail not named takes merge_default_pick's."""
    picks = dict(picks or {})
    _check_picks(picks)
    if survivor.pk == other.pk:
        raise ValidationError(_("A customer cannot be merged with itself."))
    # Lock both rows in a fixed order so two merges of the same pair cannot interleave.
    locked = {
        c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[survivor.pk, other.pk]).order_by("pk")
    }
    survivor, other = locked[survivor.pk], locked[other.pk]
    other_id = other.pk  # delete() below forgets it
    if survivor.erased_at is not None or other.erased_at is not None:
        # Either way round, personal data would meet an erased record: the survivor's picks would bring it back.
        raise ValidationError(_("An erased customer cannot be merged."), code="erased")
    snapshot = {f: audit_value(getattr(other, f)) for f in SNAPSHOT}

    customer_merging.send(sender=Customer, survivor=survivor, other=other)
    for relation in Customer._meta.related_objects:
        if relation.one_to_many:
            manager = relation.related_model._base_manager
            manager.filter(**{relation.field.name: other}).update(**{relation.field.name: survivor})
    survivor.tags.add(*other.tags.all())
    survivor.preferred_categories.add(*other.preferred_categories.all())

    updates = {
        f: getattr(other, f)
        for f in PICKABLE
        if picks.get(f, merge_default_pick(survivor=survivor, other=other, field=f)) == "other"
        and getattr(other, f) != getattr(survivor, f)
    }
    took_tier = other.tier and (survivor.tier is None or other.tier.rank > survivor.tier.rank)
    if took_tier:
        updates["tier"], updates["tier_since"] = other.tier, other.tier_since
    for channel, field in CONSENT_FIELDS.items():
        latest = ConsentEvent.objects.filter(customer=survivor, channel=channel).order_by("-at", "-id").first()
        if latest is not None:
            updates[field] = latest.granted  # the person's latest decision, whichever record it was made on
    if other.notes:
        updates["notes"] = "\n".join(filter(None, [survivor.notes, other.notes]))
    if other.id_number and not survivor.id_number:
        # The ID is the person's: the survivor takes the one only the other record held.
        updates |= {"id_type": other.id_type, "id_number": other.id_number, "id_number_index": other.id_number_index}
    record = MergeRecord(
        survivor=survivor,
        merged_crm_number=other.crm_number,
        merged_name=other.name,
        snapshot=snapshot,
        merged_by=acting_user(actor),
    )
    _delete_merged(other)  # frees its phone, e-mail and legacy number for the survivor
    customer_merged.send(sender=Customer, survivor=survivor)
    if updates:
        Customer.objects.filter(pk=survivor.pk).update(**updates)
    record.full_clean()
    record.save()
    user = record.merged_by
    membership.points_merge(survivor=survivor, other=other, actor=actor)
    if took_tier:
        TierChange.objects.create(
            customer=survivor,
            kind=TierChangeKind.MANUAL,
            from_tier=survivor.tier,
            to_tier=other.tier,
            reason_code=TierChangeReason.MERGED,
            reason_params={"number": other.crm_number},
            created_by=user,
        )
    audit_record(
        actor=actor,
        customer_id=survivor.pk,
        action=AuditAction.MERGE,
        # Like customer_update's entries: [before, after] for each field the survivor took over.
        changes={
            "merged": other.crm_number,
            # The other customer's own entries stay recorded against its id: the audit search follows this.
            "merged_id": other_id,
            **{
                f: audit_pair(f, getattr(survivor, f), v)
                for f, v in updates.items()
                if getattr(survivor, f) != v and f != "id_number_index"
            },
        },
    )
    survivor.refresh_from_db()
    return record

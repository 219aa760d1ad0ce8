"""Every write to customers goes through here: views, admin, imports, API and tasks."""

import datetime
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.audit import audit_event, audit_record
from crm.jobs import job_finish, job_progress
from crm.lib import crm_number, tabular
from crm.lib.copy import copy_insert, copy_rows
from crm.lib.users import acting_user
from crm.models import AuditAction, AuditEvent, Job
from customers import personal
from customers.models import (
    Category,
    ConsentChannel,
    ConsentEvent,
    ConsentMethod,
    Customer,
    Tag,
    Tier,
)
from customers.selectors import customer_list, customers_filtered
from customers.services.tiers import tier_record_manual

EXPORT_COLUMNS = [
    (_("CRM number"), lambda c, masked: crm_number.format_number(c.crm_number)),
    (_("Name"), lambda c, masked: c.name),
    (_("Mobile"), lambda c, masked: personal.masked(c, "mobile") if masked else c.mobile),
    (_("E-mail"), lambda c, masked: personal.masked(c, "email") if masked else c.email),
    (_("Gender"), lambda c, masked: c.get_gender_display()),
    (_("Birthday"), lambda c, masked: personal.masked(c, "birthday") if masked else _iso(c.birthday)),
    (_("Province"), lambda c, masked: c.province),
    (_("City"), lambda c, masked: c.city),
    (_("Address"), lambda c, masked: personal.masked(c, "address") if masked else c.address),
    (_("ID type"), lambda c, masked: c.get_id_type_display()),
    # Masked for everyone: a list export would otherwise put every ID number in clear in one file, which the
    # encryption at rest exists to prevent; one is seen by revealing it on the member's page (recorded).
    (_("ID number"), lambda c, masked: personal.masked(c, "id_number")),
    (_("Tier"), lambda c, masked: c.tier.display_name if c.tier else ""),
    (_("Points"), lambda c, masked: c.points_balance),
    (_("Tags"), lambda c, masked: ", ".join(t.name for t in c.tags.all())),
    (_("Source"), lambda c, masked: c.get_source_display()),
    (_("Registration date"), lambda c, masked: c.registered_on.isoformat()),
    (_("Owner"), lambda c, masked: c.owner.get_username() if c.owner else ""),
    (_("Legacy member number"), lambda c, masked: c.legacy_number or ""),
    (_("E-mail consent"), lambda c, masked: c.email_opt_in),
    (_("SMS consent"), lambda c, masked: c.sms_opt_in),
]


def _iso(day: datetime.date | None) -> str:
    return day.isoformat() if day else ""


CONSENT_FIELDS = {ConsentChannel.EMAIL: "email_opt_in", ConsentChannel.SMS: "sms_opt_in"}
AUDIT_IGNORED = {"updated_at"}


def _save_validated(customer: Customer) -> None:
    customer.full_clean()
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as e:
        # Two desks saving the same phone at once: the constraint is the referee,
        # and validating again now names the customer that won.
        customer.full_clean()
        raise ValidationError(_("This customer could not be saved; please try again.")) from e
    customer.refresh_from_db(fields=["crm_number"])


@transaction.atomic
def customer_create(
    *,
    actor: AbstractBaseUser | None,
    consent_method: ConsentMethod = ConsentMethod.FORM,
    consent_note: str = "",
    tags: Iterable[Tag] = (),
    preferred_categories: Iterable[Category] = (),
    **fields: Any,
) -> Customer:
    customer = Customer(**fields)
    if customer.tier_id and customer.tier_since is None:
        customer.tier_since = timezone.now()
    _save_validated(customer)
    customer.tags.set(tags)
    customer.preferred_categories.set(preferred_categories)
    for channel, field in CONSENT_FIELDS.items():
        if getattr(customer, field):
            ConsentEvent.objects.create(
                customer=customer,
                channel=channel,
                granted=True,
                method=consent_method,
                note=consent_note,
                recorded_by=acting_user(actor),
            )
    audit_record(actor=actor, customer_id=customer.pk, action=AuditAction.CREATE)
    return customer


def _issue_numbers(count: int) -> list[tuple[int, int]]:
    """Ids and CRM numbers for `count` new customers: the database issues them (sequence + check digit),
    in one round trip."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('customers_customer', 'id')), crm_next_number()"
            " FROM generate_series(1, %s)",
            [count],
        )
        return cursor.fetchall()


def _record_bulk_created(
    created: list[tuple[int, bool, bool]], *, actor: AbstractBaseUser | None, consent_method: ConsentMethod
) -> None:
    """The consent events and audit entries of customers just inserted in bulk, from (id, e-mail
    opt-in, SMS opt-in): one COPY each, and the same rows customer_create writes one at a time."""
    user = acting_user(actor)
    user_id = user.pk if user else None
    copy_rows(
        ConsentEvent,
        [
            {
                "customer_id": pk,
                "channel": channel,
                "granted": True,
                "method": consent_method,
                "recorded_by_id": user_id,
            }
            for pk, *opt_ins in created
            for channel, opted in zip(CONSENT_FIELDS, opt_ins, strict=True)
            if opted
        ],
    )
    # One entry per customer, as customer_create writes: the trail of a person must not depend on the door.
    who = audit_event(action=AuditAction.CREATE, actor=actor)
    copy_rows(
        AuditEvent,
        [
            {
                "actor_id": user_id,
                "actor_name": who.actor_name,
                "api_client": who.api_client,
                "ip": who.ip,
                "customer_id": pk,
                "action": AuditAction.CREATE,
            }
            for pk, *_ in created
        ],
    )


@transaction.atomic
def customers_bulk_create(
    *,
    customers: list[Customer],
    actor: AbstractBaseUser | None,
    consent_method: ConsentMethod,
    tags: dict[int, list[Tag]] | None = None,
) -> list[Customer]:
    """Insert many customers at once (demo data): one COPY each for customers, consent and audit.

    The caller has validated each one (clean_fields() and normalize()) and checked duplicates
    against the database a batch at a time; the unique constraints still refuse a race.
    `tags` maps an index in `customers` to its tags.
    """
    for customer, (pk, number) in zip(customers, _issue_numbers(len(customers)), strict=True):
        customer.pk, customer.crm_number = pk, number
    copy_insert(Customer, customers)
    created = customers
    _record_bulk_created(
        [(c.pk, *(getattr(c, field) for field in CONSENT_FIELDS.values())) for c in created],
        actor=actor,
        consent_method=consent_method,
    )
    Through = Customer.tags.through
    Through.objects.bulk_create(
        Through(customer_id=created[i].pk, tag_id=tag.pk)
        for i, customer_tags in (tags or {}).items()
        for tag in customer_tags
    )
    return created


@transaction.atomic
def customers_copy_in(
    *, rows: list[dict[str, Any]], actor: AbstractBaseUser | None, consent_method: ConsentMethod
) -> list[int]:
    """Insert many customers given as validated column values ({attname: value}, as an import parses
    its cells), with no model instance per row; the columns a row leaves out take their defaults.
    Writes what customers_bulk_create writes; returns the new ids in the order of `rows`.

    The caller has validated each row as clean_fields() and normalize() would and checked duplicates
    against the database; the unique constraints still refuse a race.
    """
    for row, (pk, number) in zip(rows, _issue_numbers(len(rows)), strict=True):
        row["id"], row["crm_number"] = pk, number
    copy_rows(Customer, rows)
    email, sms = CONSENT_FIELDS.values()
    _record_bulk_created(
        [(row["id"], row.get(email, False), row.get(sms, False)) for row in rows],
        actor=actor,
        consent_method=consent_method,
    )
    return [row["id"] for row in rows]


@transaction.atomic
def customer_update(
    *,
    customer: Customer,
    actor: AbstractBaseUser | None,
    consent_method: ConsentMethod = ConsentMethod.FORM,
    consent_note: str = "",
    tags: Iterable[Tag] | None = None,
    preferred_categories: Iterable[Category] | None = None,
    **fields: Any,
) -> Customer:
    """Change a customer; every path (form, admin, API) records the same audit entry and consent events.

    The "before" values are read from the locked row, not from `customer`: a bound ModelForm has
    already written the new values into the instance it was given.
    """
    stored = Customer.objects.select_for_update().get(pk=customer.pk)
    if stored.erased_at is not None:
        # Irreversible: what is typed into an erased record would be personal data again.
        raise ValidationError(_("This customer's personal data has been erased; the record cannot be changed."))
    before = {name: getattr(stored, name) for name in fields}
    # The change goes onto the row as stored, so what another desk saved meanwhile is kept.
    for name, value in fields.items():
        setattr(stored, name, value)
    tier_changed = "tier" in fields and before["tier"] != stored.tier
    if tier_changed:
        stored.tier_since = timezone.now()
    _save_validated(stored)
    if tier_changed:
        tier_record_manual(customer=stored, from_tier=before["tier"], actor=actor, at=stored.tier_since)
    # Personal values masked: the trail cannot be rewritten, so clear values would outlive an erasure.
    changes = {
        name: audit_pair(name, before[name], getattr(stored, name))
        for name in fields
        if before[name] != getattr(stored, name) and name not in AUDIT_IGNORED
    }
    if tags is not None:
        old = set(stored.tags.values_list("name", flat=True))
        stored.tags.set(tags)
        new = {t.name for t in tags}
        if old != new:
            changes["tags"] = [sorted(old), sorted(new)]
    if preferred_categories is not None:
        stored.preferred_categories.set(preferred_categories)
    for channel, field in CONSENT_FIELDS.items():
        if field in changes:
            ConsentEvent.objects.create(
                customer=stored,
                channel=channel,
                granted=getattr(stored, field),
                method=consent_method,
                note=consent_note,
                recorded_by=acting_user(actor),
            )
    if changes:
        audit_record(actor=actor, customer_id=stored.pk, action=AuditAction.UPDATE, changes=changes)
    customer.refresh_from_db()
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
    """Record a grant or withdrawal, with the same history and audit entry as customer_update; nothing happens
    if the state is already so.

    Only the consent is written, not the whole row validated again: a withdrawal (an unsubscribe link, an SMS
    reply) must go through even when another stored value fails a rule tightened since it was saved.
    """
    field = CONSENT_FIELDS[channel]
    stored = Customer.objects.select_for_update().only("pk", field, "erased_at").get(pk=customer.pk)
    if getattr(stored, field) == granted or (granted and stored.erased_at is not None):
        return None  # an erased member has no address to consent for: a late "subscribe" changes nothing
    Customer.objects.filter(pk=stored.pk).update(**{field: granted, "updated_at": timezone.now()})
    event = ConsentEvent.objects.create(
        customer=stored, channel=channel, granted=granted, method=method, note=note, recorded_by=acting_user(actor)
    )
    audit_record(
        actor=actor, customer_id=stored.pk, action=AuditAction.CONSENT, changes={field: [not granted, granted]}
    )
    setattr(customer, field, granted)
    return event


def audit_pair(name: str, before: object, after: object) -> list:
    """A field's [before, after] as the audit trail stores them: personal values masked, since the trail is
    append-only (an erasure could not clear them later) and not encrypted."""
    return [personal.audit_masked(name, audit_value(before)), personal.audit_masked(name, audit_value(after))]


def audit_value(value: object) -> bool | int | str | None:
    """A field's value as the audit trail (and a merge's snapshot) stores it in JSON."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (Tier, Category)):
        return value.name  # the one name that does not depend on the writer's language
    return str(value)


EXPORT_BATCH = 2000


def customer_export(*, job: Job) -> None:
    """Write the customers the list's filters select (plain values kept in the job's params, see
    customers.selectors.customers_filtered) to CSV or xlsx, reporting progress."""
    user = job.created_by
    masked = not user.has_perm("customers.view_contact_details")
    queryset = customers_filtered(customer_list(user=user), filters=job.params["filters"], contacts=not masked)
    customers_write_export(job=job, queryset=queryset, stem="customers", audit={"query": job.params})


def customers_write_export(*, job: Job, queryset: QuerySet[Customer], stem: str, audit: dict) -> int:
    """The one export writer for lists of customers (the list, a segment): the columns above, contacts masked
    unless the job's starter may see them, progress reported, the export audited. Returns the rows written.

    Not one transaction: progress must be visible to the page while it runs.
    """
    user = job.created_by
    masked = not user.has_perm("customers.view_contact_details")
    queryset = queryset.select_related("tier", "owner").prefetch_related("tags")
    total = queryset.count()
    job_progress(job, done=0, total=total)

    writer = tabular.writer(job.params.get("format", "csv"))
    writer.write_row([str(label) for label, _ in EXPORT_COLUMNS])
    done = 0
    for customer in queryset.iterator(chunk_size=EXPORT_BATCH):
        writer.write_row([value(customer, masked) for _, value in EXPORT_COLUMNS])
        done += 1
        if done % EXPORT_BATCH == 0:
            job_progress(job, done=done)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    job_finish(job, filename=f"{stem}-{stamp}.{writer.extension}", content=writer.close())
    audit_record(actor=user, action=AuditAction.EXPORT, changes={"rows": done, **audit})
    return done

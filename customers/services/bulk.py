"""Bulk changes from the customer list (issue 9): add or remove a tag, give another owner, export.

The selection arrives as plain values (the list's filters, or the ids of ticked rows) and is evaluated
here, always inside what the acting user may see (customers_visible_to): an id posted from outside
their book selects nothing. Changes are set-based SQL a chunk of ids at a time; each chunk is one
transaction that changes the rows and writes their audit entries (one bulk_create). A chunk changes only
the rows not already so and audits exactly those (RETURNING names them), so a chunk applied twice, as
when a job whose worker died is taken up again, adds no tag row and no audit entry twice.

Up to INLINE_LIMIT customers are changed at once, in one transaction; more become a job with progress
(customers.tasks.customer_bulk_task), which re-checks the starter's permissions when it runs.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet, TextChoices
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from crm.audit import audit_event, audit_record_many
from crm.jobs import job_create, job_done, job_fail, job_progress
from crm.lib.users import acting_user
from crm.models import AuditAction, Job, JobKind
from customers.models import Customer, Tag
from customers.selectors import customer_owners, customers_filtered, customers_visible_to
from customers.services.customers import audit_value

INLINE_LIMIT = 500
CHUNK = 2000
MAX_IDS = 1000  # ticked rows arrive from one page; more than this is not a person ticking boxes


class BulkAction(TextChoices):
    TAG_ADD = "tag_add", _("Add a tag")
    TAG_REMOVE = "tag_remove", _("Remove a tag")
    REASSIGN = "reassign", _("Give another owner")
    EXPORT = "export", _("Export")


# What each action needs, besides seeing the customers (customers_visible_to).
ACTION_PERMISSIONS: dict[str, tuple[str, ...]] = {
    BulkAction.TAG_ADD: ("customers.change_customer",),
    BulkAction.TAG_REMOVE: ("customers.change_customer",),
    BulkAction.REASSIGN: ("customers.change_customer", "customers.reassign_owner"),
    BulkAction.EXPORT: ("customers.export_customers",),
}


@dataclass(frozen=True)
class BulkResult:
    selected: int
    changed: int


def bulk_actions_for(user: AbstractBaseUser) -> list[BulkAction]:
    return [action for action, perms in ACTION_PERMISSIONS.items() if user.has_perms(perms)]


def bulk_check_permission(*, user: AbstractBaseUser, action: BulkAction) -> None:
    if not user.has_perm("customers.view_customer") or not user.has_perms(ACTION_PERMISSIONS[action]):
        raise PermissionDenied


def bulk_selection(*, user: AbstractBaseUser, filters: dict) -> QuerySet[Customer]:
    """The customers a bulk action applies to: the list's filters (or {"ids": [...]}) within what `user` sees."""
    contacts = user.has_perm("customers.view_contact_details")
    # An erased record takes no tag, owner or export again (customers.services.erasure).
    return customers_filtered(
        customers_visible_to(user).filter(erased_at__isnull=True), filters=filters, contacts=contacts
    )


def tag_create(*, name: str) -> Tag:
    """A new tag by name (or the one another desk created a moment ago)."""
    tag = Tag(name=name.strip())
    tag.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            tag.save()
    except IntegrityError:
        tag = Tag.objects.get(name=tag.name)
    return tag


def _check_owner(owner: AbstractBaseUser | None) -> None:
    if owner is None or not customer_owners().filter(pk=owner.pk).exists():
        raise ValidationError(_("Choose a staff member who can own customers."))


def customers_bulk_change(
    *,
    actor: AbstractBaseUser,
    action: BulkAction,
    filters: dict,
    tag: Tag | None = None,
    owner: AbstractBaseUser | None = None,
    job: Job | None = None,
) -> BulkResult:
    """Apply a tag or owner change to the selection, chunk by chunk (see the module docstring).

    With `job`, each chunk is its own transaction and reports progress; without, the caller's
    transaction (bulk_change_or_queue runs it in one) holds them all.
    """
    bulk_check_permission(user=actor, action=action)
    if action == BulkAction.REASSIGN:
        _check_owner(owner)
        apply = _owner_applier(owner)
    elif action in (BulkAction.TAG_ADD, BulkAction.TAG_REMOVE):
        if tag is None or tag.pk is None:
            raise ValidationError(_("Choose a tag."))
        apply = _tag_adder(tag) if action == BulkAction.TAG_ADD else _tag_remover(tag)
    else:
        raise ValidationError(_("This action does not change customers."))
    user = acting_user(actor)
    context = {"job": job.pk} if job else {}
    ids = bulk_selection(user=actor, filters=filters).order_by("pk").values_list("pk", flat=True)
    total = ids.count()
    if job:
        job_progress(job, done=0, total=total)
    selected = changed = last = 0
    while True:
        with transaction.atomic():
            chunk = list(ids.filter(pk__gt=last)[:CHUNK])
            if not chunk:
                break
            audits = [
                audit_event(actor=user, customer_id=pk, action=AuditAction.BULK, changes=change | context)
                for pk, change in apply(chunk)
            ]
            audit_record_many(audits)
        selected += len(chunk)
        changed += len(audits)
        last = chunk[-1]
        if job:
            job_progress(job, done=min(selected, total), total=max(selected, total))
        if len(chunk) < CHUNK:
            break
    return BulkResult(selected=selected, changed=changed)


# Changes a chunk of customer ids; returns (id, audit changes) for each customer it really changed.
Applier = Callable[[list[int]], list[tuple[int, dict]]]


def _through_table() -> str:
    return connection.ops.quote_name(Customer.tags.through._meta.db_table)


def _tag_adder(tag: Tag) -> Applier:
    def apply(ids: list[int]) -> list[tuple[int, dict]]:
        with connection.cursor() as cursor:
            # Only live customers (one may have been erased since the ids were read); a tag already
            # there is left alone, and RETURNING names the customers that really got it.
            cursor.execute(
                f"INSERT INTO {_through_table()} (customer_id, tag_id)"  # noqa: S608 (table name from the model)
                f" SELECT c.id, %s FROM {connection.ops.quote_name(Customer._meta.db_table)} c"
                " WHERE c.id = ANY(%s) ON CONFLICT (customer_id, tag_id) DO NOTHING RETURNING customer_id",
                [tag.pk, ids],
            )
            return [(pk, {"tags": {"added": [tag.name]}}) for (pk,) in cursor.fetchall()]

    return apply


def _tag_remover(tag: Tag) -> Applier:
    def apply(ids: list[int]) -> list[tuple[int, dict]]:
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {_through_table()} WHERE tag_id = %s AND customer_id = ANY(%s)"  # noqa: S608
                " RETURNING customer_id",
                [tag.pk, ids],
            )
            return [(pk, {"tags": {"removed": [tag.name]}}) for (pk,) in cursor.fetchall()]

    return apply


def _owner_applier(owner: AbstractBaseUser) -> Applier:
    new = audit_value(owner)

    def apply(ids: list[int]) -> list[tuple[int, dict]]:
        table = connection.ops.quote_name(Customer._meta.db_table)
        with connection.cursor() as cursor:
            # The self-join reads each row as it was before the update, so the audit names the old owner.
            cursor.execute(
                f"UPDATE {table} c SET owner_id = %s, updated_at = %s FROM {table} old"  # noqa: S608
                " WHERE old.id = c.id AND c.id = ANY(%s) AND c.owner_id IS DISTINCT FROM %s"
                " RETURNING c.id, old.owner_id",
                [owner.pk, timezone.now(), ids, owner.pk],
            )
            rows = cursor.fetchall()
        old_ids = {old for _, old in rows if old is not None}
        names = {u.pk: audit_value(u) for u in get_user_model().objects.filter(pk__in=old_ids)} if old_ids else {}
        return [(pk, {"owner": [names.get(old), new]}) for pk, old in rows]

    return apply


def bulk_change_or_queue(
    *,
    actor: AbstractBaseUser,
    action: BulkAction,
    filters: dict,
    tag: Tag | None = None,
    owner: AbstractBaseUser | None = None,
    query: str = "",
) -> BulkResult | Job:
    """Change a small selection at once (one transaction), or queue a job for a large one."""
    bulk_check_permission(user=actor, action=action)
    if action == BulkAction.REASSIGN:
        _check_owner(owner)
    if bulk_selection(user=actor, filters=filters).count() <= INLINE_LIMIT:
        with transaction.atomic():
            return customers_bulk_change(actor=actor, action=action, filters=filters, tag=tag, owner=owner)
    params = {
        "action": action.value if isinstance(action, BulkAction) else action,
        "filters": filters,
        "query": query,
        "tag": tag.pk if tag else None,
        "owner": owner.pk if owner else None,
    }
    return job_create(kind=JobKind.CUSTOMER_BULK, params=params, created_by=actor)


def customers_bulk_job(*, job: Job) -> None:
    """Run a queued bulk change (customers.tasks.customer_bulk_task); a rerun is safe (module docstring)."""
    params = job.params
    action = BulkAction(params["action"])
    tag = Tag.objects.filter(pk=params["tag"]).first() if params.get("tag") else None
    owner = get_user_model().objects.filter(pk=params["owner"]).first() if params.get("owner") else None
    try:
        if job.created_by is None:
            raise PermissionDenied
        if action in (BulkAction.TAG_ADD, BulkAction.TAG_REMOVE) and tag is None:
            raise ValidationError(_("The tag was deleted before the job ran."))
        result = customers_bulk_change(
            actor=job.created_by, action=action, filters=params["filters"], tag=tag, owner=owner, job=job
        )
    except PermissionDenied:
        # Permissions are those of the moment the job runs: a starter who lost them changes nothing.
        job_fail(job, message=gettext("You may no longer make this change, so nothing was changed."))
        return
    except ValidationError as e:
        job_fail(job, message=" ".join(e.messages))
        return
    job_done(job, message=bulk_result_message(action=action, result=result, tag=tag, owner=owner))


def bulk_result_message(
    *, action: BulkAction, result: BulkResult, tag: Tag | None = None, owner: AbstractBaseUser | None = None
) -> str:
    """What the page says after a bulk change: how many were changed, and how many already were so."""
    n = result.changed
    if action == BulkAction.TAG_ADD:
        text = ngettext("Tag “%(tag)s” added to %(n)d customer.", "Tag “%(tag)s” added to %(n)d customers.", n)
    elif action == BulkAction.TAG_REMOVE:
        text = ngettext("Tag “%(tag)s” removed from %(n)d customer.", "Tag “%(tag)s” removed from %(n)d customers.", n)
    else:
        text = ngettext("%(n)d customer now owned by %(owner)s.", "%(n)d customers now owned by %(owner)s.", n)
    text %= {"n": n, "tag": tag.name if tag else "", "owner": owner.get_username() if owner else ""}
    unchanged = result.selected - result.changed
    if unchanged:
        text += " " + ngettext(
            "%(n)d selected customer was already so.", "%(n)d selected customers were already so.", unchanged
        ) % {"n": unchanged}
    return text


def customers_bulk_export(*, actor: AbstractBaseUser, filters: dict, query: str, fmt: str) -> Job:
    """Export the selection (ticked rows, or a filter: the list's Export button comes here too) through the
    export job (its masking, audit and file writer)."""
    bulk_check_permission(user=actor, action=BulkAction.EXPORT)
    return job_create(
        kind=JobKind.CUSTOMER_EXPORT, params={"query": query, "filters": filters, "format": fmt}, created_by=actor
    )

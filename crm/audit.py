"""The audit trail: one service every app records through, with the request's IP and API client attached.

`AuditContextMiddleware` (web) and the API's token authentication put who is asking into a context variable;
`audit_record` reads it, so a service deep below a view or an API endpoint records the right IP and client
without every caller passing them down. A Celery task has no request: its entries carry no IP.
"""

import contextvars
import datetime
import gzip
import hashlib
import ipaddress
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from crm.lib.addresses import client_address
from crm.lib.dates import years_before
from crm.models import AuditAction, AuditArchive, AuditEvent


@dataclass(frozen=True)
class AuditContext:
    ip: str | None = None
    api_client: str = ""
    # The request, for its user: read only when an entry is written (after authentication has run), so an
    # entry written by a signal (a role change in the admin) names the signed-in user too.
    request: HttpRequest | None = None


_context: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar("audit_context", default=None)


def _current() -> AuditContext:
    return _context.get() or AuditContext()


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address as crm.lib.addresses vouches for it, if it is one."""
    try:
        return str(ipaddress.ip_address(client_address(request)))
    except ValueError:
        return None


def audit_context_set(*, ip: str | None = None, api_client: str | None = None) -> None:
    current = _current()
    _context.set(replace(current, ip=ip or current.ip, api_client=api_client or current.api_client))


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _context.set(AuditContext(ip=client_ip(request), request=request))
        try:
            return self.get_response(request)
        finally:
            _context.reset(token)


def _actor(user: AbstractBaseUser | AnonymousUser | None, context: AuditContext) -> AbstractBaseUser | None:
    if user is None and context.request is not None:
        user = getattr(context.request, "user", None)
    return user if user is not None and user.is_authenticated else None


def audit_event(
    *,
    action: AuditAction,
    actor: AbstractBaseUser | AnonymousUser | None = None,
    customer_id: int | None = None,
    target: str = "",
    changes: dict | None = None,
) -> AuditEvent:
    """An unsaved entry with the current request's IP and API client (for bulk_create). With no actor given,
    the request's signed-in user, if any."""
    context = _current()
    user = _actor(actor, context)
    return AuditEvent(
        action=action,
        actor=user,
        actor_name=user.get_username() if user else "",
        api_client=context.api_client,
        ip=context.ip,
        customer_id=customer_id,
        target=target[:150],
        changes=changes or {},
    )


def audit_record(
    *,
    action: AuditAction,
    actor: AbstractBaseUser | AnonymousUser | None = None,
    customer_id: int | None = None,
    target: str = "",
    changes: dict | None = None,
) -> AuditEvent:
    event = audit_event(action=action, actor=actor, customer_id=customer_id, target=target, changes=changes)
    event.save()
    return event


def audit_record_many(events: Iterable[AuditEvent]) -> list[AuditEvent]:
    return AuditEvent.objects.bulk_create(events, batch_size=5000)


# Accounts and access: sign-ins, and changes to who may do what, wherever they are made (admin, shell, a
# command). Connected in CrmConfig.ready.


def _on_login(sender, request, user, **kwargs) -> None:
    audit_record(action=AuditAction.LOGIN, actor=user, target=user.get_username())


def _on_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_record(action=AuditAction.LOGOUT, actor=user)


def _on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    """Django has already replaced the password with stars. The name typed is kept only if it is someone's:
    what else lands in the name box is now and then a password, which has no place in a permanent record."""
    from django.contrib.auth import get_user_model

    typed = str(credentials.get("username", ""))[:150]
    user_model = get_user_model()
    known = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: typed}).exists()
    audit_record(
        action=AuditAction.LOGIN_FAILED, target=typed if known else "", changes={} if known else {"unknown": True}
    )


def _on_membership_changed(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    """A user's groups or permissions, or a group's permissions, changed (from either side of the relation)."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if action == "pre_clear":  # post_clear no longer knows what was there
        own = next(f for f in sender._meta.fields if f.is_relation and isinstance(instance, f.related_model))
        other = next(f for f in sender._meta.fields if f.is_relation and f.related_model is model)
        pk_set = set(sender.objects.filter(**{own.name: instance}).values_list(other.attname, flat=True))
    names = sorted(_name(o) for o in model.objects.filter(pk__in=pk_set or []).select_related(*_related(model)))
    if names:
        change = "added" if action == "post_add" else "removed"
        audit_record(
            action=AuditAction.ROLES,
            target=str(instance),
            changes={"relation": sender._meta.model_name, change: names},
        )


def _related(model) -> list[str]:
    return ["content_type"] if model._meta.label == "auth.Permission" else []


def _name(obj) -> str:
    """A permission as "app.codename" (what crm/roles.py grants), anything else (a group, a user) by its name."""
    if obj._meta.label == "auth.Permission":
        return f"{obj.content_type.app_label}.{obj.codename}"
    return str(obj)


def _before_user_save(sender, instance, **kwargs) -> None:
    if instance.pk is None:
        instance._audit_flags = None
        return
    stored = sender.objects.filter(pk=instance.pk).values(*FLAGS).first()
    instance._audit_flags = stored


def _after_user_save(sender, instance, created, **kwargs) -> None:
    before = getattr(instance, "_audit_flags", None)
    after = {f: getattr(instance, f) for f in FLAGS}
    if created:
        changes = {f: [None, v] for f, v in after.items() if v}
        if changes:
            audit_record(action=AuditAction.ROLES, target=instance.get_username(), changes=changes)
        return
    changes = {f: [before[f], v] for f, v in after.items() if before is not None and before[f] != v}
    if changes:
        audit_record(action=AuditAction.ROLES, target=instance.get_username(), changes=changes)


FLAGS = ("is_superuser", "is_staff", "is_active")


def connect_receivers() -> None:
    from django.contrib.auth import get_user_model, user_logged_in, user_logged_out, user_login_failed
    from django.contrib.auth.models import Group
    from django.db.models.signals import m2m_changed, post_save, pre_save

    user_model = get_user_model()
    user_logged_in.connect(_on_login, dispatch_uid="audit_login")
    user_logged_out.connect(_on_logout, dispatch_uid="audit_logout")
    user_login_failed.connect(_on_login_failed, dispatch_uid="audit_login_failed")
    for through in (user_model.groups.through, user_model.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(_on_membership_changed, sender=through, dispatch_uid=f"audit_m2m_{through.__name__}")
    pre_save.connect(_before_user_save, sender=user_model, dispatch_uid="audit_user_flags_before")
    post_save.connect(_after_user_save, sender=user_model, dispatch_uid="audit_user_flags_after")


# Entries per archive file: one transaction each, so a run killed midway keeps what it finished.
ARCHIVE_CHUNK = 20_000
ARCHIVE_COLUMNS = [
    "id",
    "at",
    "actor_id",
    "actor_name",
    "api_client",
    "ip",
    "action",
    "customer_id",
    "target",
    "changes",
]
# Any number, the same in every process: two archiving runs take turns instead of archiving the same entries.
_ARCHIVE_LOCK = 0x617564697461  # "audita"


class ArchiveError(RuntimeError):
    """The stored file is not what was written: nothing was deleted."""


def audit_archive_cutoff(now: datetime.datetime | None = None) -> datetime.datetime | None:
    """Entries older than this are archived (RETENTION_AUDIT_YEARS); None when archiving is off (0)."""
    years = settings.RETENTION_AUDIT_YEARS
    return years_before(now or timezone.now(), years) if years > 0 else None


def audit_archive_old(
    *,
    before: datetime.datetime | None = None,
    chunk: int = ARCHIVE_CHUNK,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Move the entries older than `before` (default: the retention's cutoff) into archive files, oldest first,
    a chunk a transaction; the number moved. Resumable: a killed run left only whole chunks behind."""
    before = before or audit_archive_cutoff()
    if before is None:
        return 0
    moved = 0
    while done := _archive_chunk(before=before, limit=chunk):
        moved += done
        if progress:
            progress(moved)
    return moved


@transaction.atomic
def _archive_chunk(*, before: datetime.datetime, limit: int) -> int:
    """One file: written, read back and checked (count and SHA-256), then, in the same transaction, the entries
    deleted (the trigger lets this transaction through: crm.audit_archiving) and the manifest row written. If the
    deletion does not remove exactly what the file holds, everything is rolled back and the file removed."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ARCHIVE_LOCK])
    rows = list(AuditEvent.objects.filter(at__lt=before).order_by("id").values(*ARCHIVE_COLUMNS)[:limit])
    if not rows:
        return 0
    lines = [json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True) for row in rows]
    payload = gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)
    digest = hashlib.sha256(payload).hexdigest()
    first, last = rows[0], rows[-1]
    name = default_storage.save(
        f"audit-archive/{first['at']:%Y}/audit-{first['id']}-{last['id']}.jsonl.gz", ContentFile(payload)
    )
    try:
        _check_file(name, sha256=digest, entries=len(rows))
        ids = [row["id"] for row in rows]
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('crm.audit_archiving', 'on', true)")
            cursor.execute("DELETE FROM crm_auditevent WHERE id = ANY(%s)", [ids])
            deleted = cursor.rowcount
            cursor.execute("SELECT set_config('crm.audit_archiving', 'off', true)")
        if deleted != len(rows):
            raise ArchiveError(f"{deleted} entries deleted for {len(rows)} archived")
        AuditArchive.objects.create(
            file=name,
            entries=len(rows),
            first_id=first["id"],
            last_id=last["id"],
            first_at=min(row["at"] for row in rows),
            last_at=max(row["at"] for row in rows),
            sha256=digest,
        )
    except BaseException:
        default_storage.delete(name)
        raise
    return len(rows)


def _check_file(name: str, *, sha256: str, entries: int) -> bytes:
    with default_storage.open(name, "rb") as stored:
        payload = stored.read()
    if hashlib.sha256(payload).hexdigest() != sha256:
        raise ArchiveError(f"{name}: SHA-256 differs from what was written")
    count = len(gzip.decompress(payload).splitlines())
    if count != entries:
        raise ArchiveError(f"{name}: {count} entries stored, {entries} expected")
    return payload


def audit_archives() -> QuerySet[AuditArchive]:
    """Every archive file, newest entries first: what the audit page lists beside the live trail."""
    return AuditArchive.objects.all()


def audit_archive_check(archive: AuditArchive) -> None:
    """ArchiveError if the stored file is not the one archived (its SHA-256 or its count differs)."""
    _check_file(archive.file.name, sha256=archive.sha256, entries=archive.entries)


def audit_archive_entries(archive: AuditArchive) -> list[dict]:
    """An archive's entries as they were (ArchiveError if the file is not the one archived)."""
    payload = _check_file(archive.file.name, sha256=archive.sha256, entries=archive.entries)
    return [json.loads(line) for line in gzip.decompress(payload).splitlines()]

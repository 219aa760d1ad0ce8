"""Writes of the API's own tables: integrations and their tokens."""

import datetime
import hashlib
import secrets
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from crm.audit import audit_record
from crm.lib.users import acting_user
from crm.models import AuditAction
from crm.web.api.models import ApiClient, Scope

TOKEN_PREFIX = "crm_"  # noqa: S105 -- marks our tokens (secret scanners, logs); not a secret
# last_used_at is for spotting dead integrations, not an access log: one write a minute is enough.
TOUCH_EVERY = datetime.timedelta(minutes=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_client_create(
    *, name: str, scopes: Iterable[Scope], actor: AbstractBaseUser | None = None, rate_limit: str = ""
) -> tuple[ApiClient, str]:
    """Create an integration; returns it with its token, which is shown this once and never stored."""
    client = ApiClient(name=name, scopes=sorted({Scope(s).value for s in scopes}), rate_limit=rate_limit)
    client.created_by = acting_user(actor)
    token = _set_new_token(client)
    client.full_clean()
    client.save()
    audit_record(action=AuditAction.TOKEN_ISSUE, actor=actor, target=client.name, changes={"scopes": client.scopes})
    return client, token


@transaction.atomic
def api_client_rotate(*, client: ApiClient) -> str:
    """Give the integration a new token (the old one stops working) and re-activate it."""
    token = _set_new_token(client)
    client.active = True
    client.full_clean()
    client.save(update_fields=["token_prefix", "token_hash", "active"])
    audit_record(action=AuditAction.TOKEN_ISSUE, target=client.name, changes={"rotated": True})
    return token


@transaction.atomic
def api_client_update(
    *, client: ApiClient, name: str, scopes: Iterable[Scope], active: bool, rate_limit: str = ""
) -> ApiClient:
    # From the database: the admin's form has already set the new values on `client`.
    stored = ApiClient.objects.get(pk=client.pk)
    fields = ["name", "scopes", "active", "rate_limit"]
    before = {f: getattr(stored, f) for f in fields}
    client.name, client.scopes, client.active = name, sorted({Scope(s).value for s in scopes}), active
    client.rate_limit = rate_limit
    client.full_clean()
    client.save(update_fields=fields)
    changes = {f: [before[f], getattr(client, f)] for f in fields if before[f] != getattr(client, f)}
    if changes:
        revoked = before["active"] and not client.active
        audit_record(action=AuditAction.TOKEN_REVOKE if revoked else AuditAction.ROLES, target=name, changes=changes)
    return client


@transaction.atomic
def api_client_revoke(*, client: ApiClient) -> None:
    client.active = False
    client.save(update_fields=["active"])
    audit_record(action=AuditAction.TOKEN_REVOKE, target=client.name)


def api_client_for_token(*, token: str) -> ApiClient | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    return ApiClient.objects.filter(token_hash=token_hash(token)).first()


def api_client_touch(*, client: ApiClient, now: datetime.datetime | None = None) -> None:
    now = now or timezone.now()
    if client.last_used_at is None or client.last_used_at < now - TOUCH_EVERY:
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now


def _set_new_token(client: ApiClient) -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    client.token_prefix = token[:12]
    client.token_hash = token_hash(token)
    return token

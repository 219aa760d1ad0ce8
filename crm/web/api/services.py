"""Writes of the API's own tables: integrations and their tokens."""

import datetime
import hashlib
import secrets
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from crm.lib.users import acting_user
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
    return client, token


@transaction.atomic
def api_client_rotate(*, client: ApiClient) -> str:
    """Give the integration a new token (the old one stops working) and re-activate it."""
    token = _set_new_token(client)
    client.active = True
    client.full_clean()
    client.save(update_fields=["token_prefix", "token_hash", "active"])
    return token


@transaction.atomic
def api_client_update(
    *, client: ApiClient, name: str, scopes: Iterable[Scope], active: bool, rate_limit: str = ""
) -> ApiClient:
    client.name, client.scopes, client.active = name, sorted({Scope(s).value for s in scopes}), active
    client.rate_limit = rate_limit
    client.full_clean()
    client.save(update_fields=["name", "scopes", "active", "rate_limit"])
    return client


def api_client_revoke(*, client: ApiClient) -> None:
    client.active = False
    client.save(update_fields=["active"])


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

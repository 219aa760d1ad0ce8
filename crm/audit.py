"""The audit trail: one service every app records through, with the request's IP and API client attached.

`AuditContextMiddleware` (web) and the API's token authentication put who is asking into a context variable;
`audit_record` reads it, so a service deep below a view or an API endpoint records the right IP and client
without every caller passing them down. A Celery task has no request: its entries carry no IP.
"""

import contextvars
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, replace

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest, HttpResponse

from crm.models import AuditAction, AuditEvent


@dataclass(frozen=True)
class AuditContext:
    ip: str | None = None
    api_client: str = ""


_context: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar("audit_context", default=None)


def _current() -> AuditContext:
    return _context.get() or AuditContext()


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or with AUDIT_TRUSTED_PROXIES=N the address N hops back in X-Forwarded-For (the proxies
    in front of gunicorn append to it; anything further left was written by the client and proves nothing)."""
    hops = settings.AUDIT_TRUSTED_PROXIES
    address = request.META.get("REMOTE_ADDR", "")
    if hops:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= hops:
            address = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def audit_context_set(*, ip: str | None = None, api_client: str | None = None) -> None:
    current = _current()
    _context.set(replace(current, ip=ip or current.ip, api_client=api_client or current.api_client))


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _context.set(AuditContext(ip=client_ip(request)))
        try:
            return self.get_response(request)
        finally:
            _context.reset(token)


def _actor(user: AbstractBaseUser | AnonymousUser | None) -> AbstractBaseUser | None:
    return user if user is not None and user.is_authenticated else None


def audit_event(
    *,
    action: AuditAction,
    actor: AbstractBaseUser | AnonymousUser | None = None,
    customer_id: int | None = None,
    target: str = "",
    changes: dict | None = None,
) -> AuditEvent:
    """An unsaved entry with the current request's IP and API client (for bulk_create)."""
    context = _current()
    user = _actor(actor)
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

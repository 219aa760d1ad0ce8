"""Where a request comes from, as far as our own proxies can vouch for it."""

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The caller's IP address.

    Behind CRM_TRUSTED_PROXIES proxies (a load balancer, nginx) REMOTE_ADDR is the nearest proxy's, and
    the caller is the address that the outermost of ours appended to X-Forwarded-For. Addresses left of
    it were written by the caller, who can put anything there: trusting them would let one client pass
    for many (and dodge a rate limit).
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.CRM_TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    return forwarded[-min(proxies, len(forwarded))]

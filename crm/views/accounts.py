"""Signing in: the lock-out page (django-axes) and the two-factor steps (crm/two_factor.py)."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from crm.forms import TwoFactorCodeForm
from crm.two_factor import (
    totp_device_confirm,
    totp_device_start,
    totp_qr_data_uri,
    totp_secret_text,
    two_factor_enrolled,
    two_factor_verify,
)


def axes_username(request: HttpRequest, credentials: dict | None) -> str:
    """The username a failed login is counted against (AXES_USERNAME_CALLABLE), cut to the longest a user can have:
    the login form passes any length on, and axes' table holds 255 characters (a longer one was a 500)."""
    username = (credentials or {}).get("username") or request.POST.get("username") or ""
    return str(username)[: get_user_model()._meta.get_field(get_user_model().USERNAME_FIELD).max_length]


def locked_out(request: HttpRequest, response: HttpResponse | None = None, credentials: dict | None = None):
    """django-axes' answer to a login while its username and address are locked out: the login page again,
    saying why and for how long, with 429 (AXES_LOCKOUT_CALLABLE)."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    minutes = round(settings.AXES_COOLOFF_TIME * 60)
    message = _(
        "Too many failed logins for this username from your address: it is locked for %(minutes)d minutes. "
        "Wait, or ask an administrator to unlock it."
    ) % {"minutes": minutes}
    context = {"form": form, "next": request.POST.get("next", ""), "locked_out_message": message}
    return render(request, "registration/login.html", context, status=429)


def _wrong_code_message() -> str:
    return _(
        "That code is not right, or was used already. Several wrong codes in a row make you wait longer "
        "before the next try."
    )


def _wrong_enrol_code_message() -> str:
    return _("That code is not right. Check the clock of your phone, and type the code the app shows now.")


def _next_url(request: HttpRequest) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _with_next(url_name: str, next_url: str) -> str:
    return f"{resolve_url(url_name)}?{urlencode({'next': next_url})}"


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_verify_view(request: HttpRequest) -> HttpResponse:
    """After the password, a code from the authenticator app or a backup code (crm.middleware sends users here)."""
    next_url = _next_url(request)
    if request.user.is_verified():
        return HttpResponseRedirect(next_url)
    if not two_factor_enrolled(request.user):
        return HttpResponseRedirect(_with_next("two_factor_enrol", next_url))
    form = TwoFactorCodeForm(request.POST or None)
    if form.is_valid():
        if two_factor_verify(request=request, token=form.cleaned_data["code"]):
            return HttpResponseRedirect(next_url)
        form.add_error("code", _wrong_code_message())
    status = 400 if form.errors else 200
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": next_url}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_enrol_view(request: HttpRequest) -> HttpResponse:
    """Setting up the authenticator app: a QR code (and the secret as text), then a code from the app to prove it
    works; ten backup codes are shown once on success."""
    next_url = _next_url(request)
    if two_factor_enrolled(request.user):
        # A second app replaces the first only through recovery (manage.py reset_2fa): a stolen password alone
        # must not be enough to add one.
        target = next_url if request.user.is_verified() else _with_next("two_factor_verify", next_url)
        return HttpResponseRedirect(target)
    device = totp_device_start(user=request.user)
    form = TwoFactorCodeForm(request.POST or None, enrolling=True)
    if form.is_valid():
        codes = totp_device_confirm(request=request, device=device, token=form.cleaned_data["code"])
        if codes is not None:
            return render(request, "registration/two_factor_backup_codes.html", {"codes": codes, "next": next_url})
        form.add_error("code", _wrong_enrol_code_message())
    context = {
        "form": form,
        "next": next_url,
        "qr_code": totp_qr_data_uri(device),
        "secret": totp_secret_text(device),
    }
    return render(request, "registration/two_factor_enrol.html", context, status=400 if form.errors else 200)

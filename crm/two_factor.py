"""Two-factor authentication (django-otp): who must use it, enrolment, verification and recovery.

A user who must (`two_factor_required`) is let through by crm.middleware.TwoFactorRequiredMiddleware only once
their session is verified with a code: from the authenticator app (TOTP) or one of ten one-time backup codes.
"""

import base64
import io

import qrcode
import qrcode.image.svg
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm.audit import audit_record
from crm.models import AuditAction
from crm.roles import Role

TWO_FACTOR_ROLES = (Role.MANAGER, Role.ADMIN)
BACKUP_CODE_COUNT = 10
APP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"


def two_factor_required(user: AbstractBaseUser) -> bool:
    """Managers and admins see every customer and the whole business; staff and superusers reach Django admin."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.is_staff:
        return True
    return user.groups.filter(name__in=TWO_FACTOR_ROLES).exists()


def two_factor_enrolled(user: AbstractBaseUser) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def totp_device_start(*, user: AbstractBaseUser) -> TOTPDevice:
    """The device being enrolled: a new secret, or the one already shown (a page reload keeps the QR code)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice(user=user, name=APP_DEVICE_NAME, confirmed=False)
        device.full_clean()
        device.save()
    return device


@transaction.atomic
def totp_device_confirm(*, request, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirms the device being enrolled with a code it shows, verifies the session and returns ten new backup
    codes (shown once); None when the code is wrong, and then nothing is confirmed."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=request.user, confirmed=False)
    if not device.verify_token(_digits(token)):
        return None
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = backup_codes_create(user=device.user)
    otp_login(request, device)
    audit_record(action=AuditAction.TWO_FACTOR, actor=device.user, target=device.user.get_username())
    return codes


@transaction.atomic
def backup_codes_create(*, user: AbstractBaseUser) -> list[str]:
    """Ten new one-time backup codes in place of any earlier ones."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
    device.full_clean()
    device.save()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def two_factor_verify(*, request, token: str) -> bool:
    """Verifies the session with a code from the app or a backup code (spent by its use). Each device throttles
    its own failures (django-otp doubles the wait after each), so codes cannot be guessed at speed."""
    token = "".join(token.split()).lower()
    if token.isdigit():
        devices = TOTPDevice.objects.filter(user=request.user, confirmed=True)
        token = _digits(token)
    else:
        devices = StaticDevice.objects.filter(user=request.user, confirmed=True)
    with transaction.atomic():
        for device in devices.select_for_update():
            if device.verify_token(token):
                otp_login(request, device)
                return True
    audit_record(
        action=AuditAction.LOGIN_FAILED,
        actor=request.user,
        target=request.user.get_username(),
        changes={"step": "second factor"},
    )
    return False


@transaction.atomic
def two_factor_reset(*, user: AbstractBaseUser) -> int:
    """Recovery for a lost phone: removes the user's devices and backup codes, so their next login enrols anew.
    Returns how many devices (app and backup-code sets) were removed."""
    apps = TOTPDevice.objects.filter(user=user)
    backups = StaticDevice.objects.filter(user=user)
    removed = apps.count() + backups.count()
    apps.delete()
    backups.delete()
    audit_record(action=AuditAction.TWO_FACTOR, target=user.get_username(), changes={"reset": removed})
    return removed


def totp_qr_data_uri(device: TOTPDevice) -> str:
    """The device's otpauth:// URL as an SVG QR code, drawn here (no outside service sees the secret)."""
    out = io.BytesIO()
    qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2).save(out)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


def totp_secret_text(device: TOTPDevice) -> str:
    """The secret as an authenticator app asks for it when typed in (base32, in groups of four)."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _digits(token: str) -> str:
    return "".join(token.split())

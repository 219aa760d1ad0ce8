"""Logging a test client in as a person would end up: a manager or admin with a verified second factor."""

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm.two_factor import APP_DEVICE_NAME, two_factor_required


def force_login(client: Client, user) -> Client:
    """client.force_login, and for a user who must use two-factor authentication an enrolled authenticator and a
    session verified with it, as after typing a code (crm.middleware.TwoFactorRequiredMiddleware lets them on)."""
    client.force_login(user)
    if two_factor_required(user):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
            user=user, name=APP_DEVICE_NAME, confirmed=True
        )
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client

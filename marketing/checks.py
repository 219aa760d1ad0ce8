"""System checks for the SMS settings: a wrong backend path or gateway body is reported when the project starts
(manage.py check, a worker's start), not by a campaign whose batches then all fail."""

import json

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.utils.module_loading import import_string


@register(Tags.compatibility)
def sms_settings_check(app_configs, **kwargs) -> list[Error]:
    try:
        backend = import_string(settings.CRM_SMS_BACKEND)
    except ImportError as error:
        return [Error(f"CRM_SMS_BACKEND cannot be imported: {error}", id="marketing.E001")]
    from marketing.channels.sms import HttpGatewayBackend

    if not (isinstance(backend, type) and issubclass(backend, HttpGatewayBackend)):
        return []
    errors = []
    if not settings.CRM_SMS_GATEWAY_URL.startswith(("http://", "https://")):
        errors.append(Error("CRM_SMS_GATEWAY_URL must be an http(s) URL.", id="marketing.E002"))
    try:
        json.loads(settings.CRM_SMS_GATEWAY_BODY)
    except ValueError as error:
        errors.append(Error(f"CRM_SMS_GATEWAY_BODY is not JSON: {error}", id="marketing.E003"))
    return errors

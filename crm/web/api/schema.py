"""Tells drf-spectacular how integrations authenticate, so the schema documents it."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import serializers


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "crm.web.api.auth.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "One token per integration: `manage.py api_client_create` or the admin shows it once.",
        }


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in a sentence.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Bad input: the reasons per field (non_field_errors for the whole body).",
    )


def error_responses(*codes: int) -> dict:
    """The error answers an operation can give, for its schema; 401, 403 and 429 (over the rate, with
    Retry-After) are common to all."""
    return {code: ErrorSerializer for code in sorted({401, 403, 429, *codes})}

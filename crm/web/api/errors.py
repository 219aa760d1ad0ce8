"""One shape for every error: {"detail": summary} plus, for bad input, {"errors": {field: [reasons]}}."""

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status

NON_FIELD = "non_field_errors"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("Request body too large.")
    default_code = "too_large"


def too_large(limit: int | None = None) -> PayloadTooLarge:
    limit = limit or settings.API_MAX_BODY_BYTES
    return PayloadTooLarge(_("The request body may be at most %(limit)s bytes.") % {"limit": limit})


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, errors: dict[str, list[str]], extra: dict | None = None):
        super().__init__(_("Conflicts with existing data."))
        self.errors = errors
        self.extra = extra or {}


def service_errors(error: DjangoValidationError) -> dict[str, list[str]]:
    """A service's ValidationError as reasons per field."""
    if hasattr(error, "error_dict"):
        return {NON_FIELD if f == NON_FIELD_ERRORS else f: msgs for f, msgs in error.message_dict.items()}
    return {NON_FIELD: error.messages}


def exception_handler(exc, context):
    # Imported here: rest_framework.views loads the parser setting, and crm.web.api.parsers imports this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, RequestDataTooBig):
        # Anything that reads request.body (not our parser) meets Django's limit first: still our 413.
        exc = too_large()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(service_errors(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {NON_FIELD: exc.detail}
        response.data = {"detail": _("Invalid input."), "errors": detail}
    elif isinstance(exc, Conflict):
        response.data = {"detail": str(exc.detail), "errors": exc.errors, **exc.extra}
    return response

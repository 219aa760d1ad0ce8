"""The server error handler: the database away (restarting, out of connections) is a 503 the user can wait out,
anything else Django's 500. Neither touches the database nor shows the error (it is in the log)."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

# Every request meets the database (the session, the user), so when it restarts they all fail at once, and all
# succeed again a moment later: CONN_HEALTH_CHECKS replaces the broken connection at the next request.
DATABASE_AWAY = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30
MACHINE_PATHS = ("/api/", "/webhooks/")


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    if not isinstance(sys.exc_info()[1], DATABASE_AWAY):
        return defaults.server_error(request, template_name)
    if request.path.startswith(MACHINE_PATHS):
        response = JsonResponse(
            {
                "detail": _("The service is briefly unavailable: its database is not answering. Try again shortly."),
                "reason": "database_unavailable",
            },
            status=503,
        )
    else:
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response

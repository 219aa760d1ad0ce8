"""Edge checks every request passes before any view reads it."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

FORM_ENCODED = "application/x-www-form-urlencoded"


class InputEdgeMiddleware:
    """Refuses what no view can handle well, before any view reads it.

    A NUL character in the path, the query string or a form body is a 400.
    Postgres cannot store or even compare text holding NUL (the driver raises), so it must not
    get as far as a query. Form fields refuse it themselves (Django's CharField), JSON bodies are
    checked by the API's parser, import files cell by cell; this covers what views read directly.
    Multipart bodies are left to the forms: parsing them here would consume the upload stream.

    An API body sent chunked without a Content-Length is a 411.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._has_nul(request):
            message = _("The request contains a NUL character, which is not allowed in any text.")
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": message, "errors": {"non_field_errors": [message]}}, status=400)
            return render(request, "400.html", {"message": message}, status=400)
        if request.path_info.startswith("/api/") and self._chunked_without_length(request):
            message = _("Send the request body with a Content-Length header (chunked bodies are not accepted).")
            return JsonResponse({"detail": message}, status=411)
        return self.get_response(request)

    @staticmethod
    def _chunked_without_length(request: HttpRequest) -> bool:
        """Under WSGI a chunked body without a length reads as empty: say so instead of "field required"."""
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        return chunked and not request.META.get("CONTENT_LENGTH")

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        if "\x00" in request.path_info:
            return True
        params = [request.GET]
        if request.method == "POST" and request.content_type == FORM_ENCODED:
            params.append(request.POST)
        return any(
            "\x00" in key or any("\x00" in value for value in values)
            for query in params
            for key, values in query.lists()
        )

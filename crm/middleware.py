"""Edge checks every request passes before any view reads it, and the session rules (idle expiry, 2FA)."""

import time
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render, resolve_url
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _

from crm.two_factor import two_factor_enrolled, two_factor_required

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


class SessionIdleMiddleware:
    """Keeps a session alive while it is used: its expiry (SESSION_COOKIE_AGE, SESSION_IDLE_MINUTES) is pushed
    forward by saving it again, at most once a minute, so a session idle for longer than that ends.

    Cheaper than SESSION_SAVE_EVERY_REQUEST, which writes the session row on every request (a dashboard sends a
    dozen chart requests at once). Requests a page makes by itself (the notification badge's and the progress
    bars' polls, marked with an X-CRM-Background header) do not count: a tab left open still times out.
    """

    REFRESH_SECONDS = 60
    KEY = "_refreshed_at"

    def __init__(self, get_response):
        self.get_response = get_response

    @classmethod
    def stamp_login(cls, sender, request, user, **kwargs) -> None:
        """Logging in saves the session anyway: the first requests after it need not save it again."""
        if request is not None and hasattr(request, "session"):
            request.session[cls.KEY] = int(time.time())

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if session.session_key and not session.is_empty() and not request.headers.get("X-CRM-Background"):
            now = int(time.time())
            if now - session.get(self.KEY, 0) >= self.REFRESH_SECONDS:
                session[self.KEY] = now  # marks the session modified: SessionMiddleware saves it, expiry renewed
        return self.get_response(request)


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Django's, but an htmx request of a session that has ended (a badge's poll in a tab left open) loads the
    login page in place of the whole page instead of swapping it into the fragment's place."""

    def handle_no_permission(self, request, view_func):
        response = super().handle_no_permission(request, view_func)
        if not request.headers.get("HX-Request"):
            return response
        page = urlsplit(request.headers.get("HX-Current-URL", ""))
        next_url = page.path + (f"?{page.query}" if page.query else "") if page.path else "/"
        redirect = HttpResponse()
        redirect["HX-Redirect"] = f"{resolve_url(self.get_login_url(view_func))}?{urlencode({'next': next_url})}"
        return redirect


class TwoFactorRequiredMiddleware:
    """Sends a user who must use two-factor authentication (crm.two_factor.two_factor_required) and whose session
    is not yet verified to the code page, or to enrolment if they have no authenticator yet, from every page,
    Django admin included. The integration API (/api/v1/) is left alone: it authenticates by token, not session.
    """

    OPEN_URL_NAMES = ("two_factor_verify", "two_factor_enrol", "logout", "set_language", "healthz")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not user.is_authenticated or user.is_verified() or not two_factor_required(user):
            return self.get_response(request)
        if request.path_info.startswith("/api/v1/") or self._is_open(request):
            return self.get_response(request)
        target = "two_factor_verify" if two_factor_enrolled(user) else "two_factor_enrol"
        next_url = request.get_full_path() if request.method == "GET" else resolve_url(settings.LOGIN_REDIRECT_URL)
        url = f"{reverse(target)}?{urlencode({'next': next_url})}"
        if request.headers.get("HX-Request"):
            # A fragment must not be swapped for the code page: htmx loads the whole page instead.
            response = HttpResponse()
            response["HX-Redirect"] = url
            return response
        return HttpResponseRedirect(url)

    def _is_open(self, request: HttpRequest) -> bool:
        try:
            return resolve(request.path_info).url_name in self.OPEN_URL_NAMES
        except Resolver404:
            return False

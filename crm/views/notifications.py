"""The top bar's notification badge and list: an htmx fragment, loaded after the page so pages pay nothing."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from crm.notifications import DROPDOWN_LENGTH, notifications_for, notifications_mark_read, unread_count


def _fragment(request: HttpRequest) -> HttpResponse:
    context = {
        "unread": unread_count(user=request.user),
        "notifications": list(notifications_for(user=request.user)[:DROPDOWN_LENGTH]),
    }
    return render(request, "includes/notifications.html", context)


@require_GET
def notifications_view(request: HttpRequest) -> HttpResponse:
    """Everyone logged in has their own notifications; no role needed."""
    return _fragment(request)


@require_POST
def notifications_read_view(request: HttpRequest) -> HttpResponse:
    notifications_mark_read(user=request.user)
    return _fragment(request)

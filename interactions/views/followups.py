"""Follow-ups: "My day" and one-click done or snooze of a reminder."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm.lib.pagination import CappedPaginator
from interactions import selectors, services
from interactions.access import get_reminder_for_user
from interactions.forms.followups import SNOOZE_CHOICES, SnoozeForm

MY_DAY_PAGE_SIZE = 50


@require_GET
def my_day_view(request: HttpRequest) -> HttpResponse:
    """The signed-in user's reminders due today and overdue, oldest first: a page of them and a capped count."""
    if not request.user.has_perm("interactions.view_reminder"):
        raise PermissionDenied
    due = selectors.reminders_due_today(user=request.user)
    page = CappedPaginator(due, MY_DAY_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "now": timezone.now(), "snooze_choices": SNOOZE_CHOICES}
    return render(request, "interactions/my_day.html", context)


@require_POST
def reminder_done_view(request: HttpRequest, reminder_id: int) -> HttpResponse:
    reminder = get_reminder_for_user(request.user, reminder_id)
    try:
        services.reminder_complete(reminder=reminder, actor=request.user)
    except ValidationError as e:
        return _reminder_response(request, reminder, error=" ".join(e.messages))
    return _reminder_response(request, reminder, message=_("Done: %(text)s") % {"text": reminder.text})


@require_POST
def reminder_snooze_view(request: HttpRequest, reminder_id: int) -> HttpResponse:
    reminder = get_reminder_for_user(request.user, reminder_id)
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        return _reminder_response(request, reminder, error=_("Choose when to be reminded again."), status=400)
    until = form.until_time(timezone.now())
    try:
        services.reminder_snooze(reminder=reminder, until=until, actor=request.user)
    except ValidationError as e:
        return _reminder_response(request, reminder, error=" ".join(e.messages))
    return _reminder_response(
        request,
        reminder,
        message=_("Snoozed until %(when)s.") % {"when": timezone.localtime(until).strftime("%Y-%m-%d %H:%M")},
    )


def _reminder_response(
    request: HttpRequest, reminder, *, message: str = "", error: str = "", status: int = 200
) -> HttpResponse:
    """htmx swaps the reminder's row for its new state; without htmx, back to My day with a message."""
    if request.headers.get("HX-Request"):
        context = {
            "reminder": reminder,
            "now": timezone.now(),
            "snooze_choices": SNOOZE_CHOICES,
            "message": message,
            "error": error,
        }
        return render(request, "interactions/includes/reminder_row.html", context, status=status)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, message)
    return redirect("interactions:my_day")

"""Interactions and reminders: log a contact, "My day", done/snooze, and the interaction reports."""

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.lib.forms import add_service_errors
from crm.lib.pagination import CappedPaginator
from customers.selectors import customers_visible_to
from interactions import selectors, services
from interactions.access import get_customer_for_interaction, get_reminder_for_user
from interactions.forms_contact import SNOOZE_CHOICES, InteractionForm, ReportForm, SnoozeForm

NOT_CONTACTED_PAGE_SIZE = 25
MY_DAY_PAGE_SIZE = 50


@require_http_methods(["GET", "POST"])
def interaction_log_view(request: HttpRequest, number: int) -> HttpResponse:
    """The customer page's card posts here; GET is the same form on a page of its own."""
    customer = get_customer_for_interaction(request.user, number)
    form = InteractionForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        try:
            interaction = services.interaction_log(customer=customer, staff=request.user, **form.cleaned_data)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("%(channel)s logged.") % {"channel": interaction.get_channel_display()})
            if interaction.follow_up_on:
                messages.info(
                    request,
                    _("You will be reminded on %(day)s.") % {"day": interaction.follow_up_on.strftime("%Y-%m-%d")},
                )
            return redirect(customer.get_absolute_url() + "#interactions")
    status = 400 if request.method == "POST" else 200
    return render(request, "interactions/interaction_form.html", {"form": form, "customer": customer}, status=status)


def _end_of_today() -> datetime.datetime:
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time.min))


@require_GET
def my_day_view(request: HttpRequest) -> HttpResponse:
    """The signed-in user's reminders due today and overdue, oldest first: a page of them and a capped count."""
    if not request.user.has_perm("interactions.view_reminder"):
        raise PermissionDenied
    due = selectors.reminders_due_for(user=request.user, until=_end_of_today())
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
    until = form.until_time(timezone.now(), settings.CRM_FOLLOW_UP_HOUR)
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
    return redirect("followups:my_day")


@require_GET
@permission_required("interactions.view_interaction_reports", raise_exception=True)
def interaction_reports_view(request: HttpRequest) -> HttpResponse:
    """Counts by channel, staff member and outcome over a period, and who has not been contacted lately."""
    form = ReportForm(request.GET or None)
    since, until = form.period()
    start = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
    end = timezone.make_aware(datetime.datetime.combine(until + datetime.timedelta(days=1), datetime.time.min))
    days = form.not_contacted_days()
    silent = selectors.customers_not_contacted(
        queryset=customers_visible_to(request.user), days=days, now=timezone.now()
    )
    page = CappedPaginator(silent, NOT_CONTACTED_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "since": since,
        "until": until,
        "days": days,
        "report": selectors.interaction_report(since=start, until=end),
        "page": page,
    }
    return render(request, "interactions/reports.html", context)

"""Interactions: log a contact from a customer's page, and the interaction reports."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from crm.lib.forms import add_service_errors
from crm.lib.htmx import redirect_after_save, render_form_page
from crm.lib.pagination import CappedPaginator
from customers.selectors import customers_visible_to
from interactions import selectors, services
from interactions.access import get_customer_for_interaction
from interactions.forms.contact import InteractionForm, ReportForm

NOT_CONTACTED_PAGE_SIZE = 25


@require_http_methods(["GET", "POST"])
def interaction_log_view(request: HttpRequest, number: int) -> HttpResponse:
    """The form on a page of its own; for htmx (the customer page's "Log contact"), the form alone."""
    customer = get_customer_for_interaction(request.user, number)
    form = InteractionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            interaction = services.interaction_log(customer=customer, staff=request.user, **form.cleaned_data)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("%(channel)s logged.") % {"channel": interaction.get_channel_display()})
            if reminder := interaction.reminders.first():
                messages.info(
                    request,
                    _("You will be reminded on %(when)s.")
                    % {"when": timezone.localtime(reminder.due_at).strftime("%Y-%m-%d %H:%M")},
                )
            return redirect_after_save(request, customer.get_absolute_url() + "?tab=interactions")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "customer": customer, "title": _("Log interaction"), "form_id": "log-interaction-form"}
    return render_form_page(request, "customers/customer_form_page.html", context, status=status)


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

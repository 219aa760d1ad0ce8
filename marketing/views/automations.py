"""The automations page: each kind with its switch and timing, a page for its message, and its results.

The message (channel, text per language, coupon offer, control group, attribution window) is the automation's
campaign, so an automation is sent and measured the way a campaign is (the campaign results page); the campaign
editor edits one-off campaigns only, so the message is edited here.
"""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.lib.forms import add_service_errors
from marketing import templating
from marketing.forms import AutomationForm, AutomationMessageForm
from marketing.models import Automation
from marketing.services.automation_messages import Text, automation_message_update
from marketing.services.automations import automation_update


def _campaign_url(name: str, automation: Automation) -> str | None:
    # The campaign pages are built beside this one; until they exist the page shows no link.
    try:
        return reverse(name, args=[automation.campaign_id])
    except NoReverseMatch:
        return None


def _rows(forms: dict[int, AutomationForm] | None = None) -> list[dict]:
    rows = []
    for automation in Automation.objects.select_related("campaign"):
        rows.append(
            {
                "automation": automation,
                "form": (forms or {}).get(automation.pk) or AutomationForm(instance=automation),
                "edit_url": reverse("marketing:automation_message", args=[automation.pk]),
                "results_url": _campaign_url("marketing:campaign_results", automation),
            }
        )
    return rows


@require_GET
@permission_required("marketing.view_automation", raise_exception=True)
def automation_list_view(request: HttpRequest) -> HttpResponse:
    return render(request, "marketing/automation_list.html", {"rows": _rows()})


@require_POST
@permission_required("marketing.change_automation", raise_exception=True)
def automation_update_view(request: HttpRequest, automation_id: int) -> HttpResponse:
    automation = get_object_or_404(Automation, pk=automation_id)
    form = AutomationForm(request.POST, instance=automation)
    if form.is_valid():
        try:
            saved = automation_update(
                automation=automation,
                enabled=form.cleaned_data["enabled"],
                days=form.cleaned_data.get("days"),
                views=form.cleaned_data.get("views"),
                delay_hours=form.cleaned_data.get("delay_hours"),
                actor=request.user,
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            state = _("on") if saved.enabled else _("off")
            messages.success(request, _("“%(name)s” saved: %(state)s.") % {"name": saved, "state": state})
            return redirect("marketing:automation_list")
    automation.refresh_from_db()  # the form changed its instance; the row shows what is stored
    rows = _rows({automation.pk: form})
    return render(request, "marketing/automation_list.html", {"rows": rows}, status=400)


@require_http_methods(["GET", "POST"])
@permission_required("marketing.change_automation", raise_exception=True)
def automation_message_view(request: HttpRequest, automation_id: int) -> HttpResponse:
    automation = get_object_or_404(Automation.objects.select_related("campaign"), pk=automation_id)
    campaign = automation.campaign
    form = AutomationMessageForm(request.POST or None, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        texts = [
            Text(language=code, subject=data[f"subject_{code}"], body=data[f"body_{code}"], html=data[f"html_{code}"])
            for code, _name in form.languages
        ]
        try:
            automation_message_update(
                automation=automation,
                channel=data["channel"],
                offer=data["offer"],
                control_percent=data["control_percent"],
                attribution_days=data["attribution_days"],
                texts=texts,
                segment=data["segment"],
                actor=request.user,
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The message of “%(name)s” is saved.") % {"name": automation})
            return redirect("marketing:automation_list")
    context = {"automation": automation, "form": form, "variables": templating.variables()}
    status = 400 if request.method == "POST" else 200
    return render(request, "marketing/automation_message.html", context, status=status)

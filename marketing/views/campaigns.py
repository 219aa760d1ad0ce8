"""Campaign pages: the list, the editor (drafts), the campaign's page with the buttons its state allows and
its progress while sending. Previews, test sends and the editor's live checks are in campaign_checks.py.

Starting, scheduling, pausing, resuming and cancelling are the sending engine's services
(marketing.services.sending); these views only ask for them and say what happened.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.lib.forms import add_service_errors
from crm.lib.htmx import is_fragment_request
from crm.queue import tell_if_waiting
from customers.models import ConsentChannel
from marketing import templating
from marketing.access import get_campaign_for_user
from marketing.forms import CampaignForm, CampaignScheduleForm, CampaignTestSendForm, PreviewMemberForm
from marketing.models import Campaign, CampaignKind, Message, MessageStatus
from marketing.services import sending
from marketing.services.campaigns import EDITABLE, campaign_create, campaign_update
from marketing.views.campaign_checks import sms_lengths

PAGE_SIZE = 50
# What the progress bar counts as done: the message left us one way or another.
FINISHED = {
    MessageStatus.SENT,
    MessageStatus.FAILED,
    MessageStatus.UNKNOWN,
    MessageStatus.DELIVERED,
    MessageStatus.OPENED,
    MessageStatus.CLICKED,
    MessageStatus.BOUNCED,
    MessageStatus.COMPLAINED,
    MessageStatus.UNSUBSCRIBED,
}
SENT = FINISHED - {MessageStatus.FAILED, MessageStatus.UNKNOWN}


@require_GET
@permission_required("marketing.view_campaign", raise_exception=True)
def campaign_list_view(request: HttpRequest) -> HttpResponse:
    campaigns = Campaign.objects.filter(kind=CampaignKind.ONE_OFF).select_related("segment", "offer")
    page = Paginator(campaigns, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = _message_counts([c.pk for c in page])
    rows = [(c, counts.get(c.pk, {})) for c in page]
    return render(request, "marketing/campaign_list.html", {"page": page, "rows": rows})


def _message_counts(campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    """Members, sent, held out and skipped per campaign on the page: one grouped query (messages' campaign
    and status index), whatever the number of campaigns."""
    sent = Q(status__in=SENT)
    rows = (
        Message.objects.filter(campaign_id__in=campaign_ids)
        .values("campaign_id")
        .annotate(
            members=Count("id"),
            sent=Count("id", filter=sent),
            held_out=Count("id", filter=Q(status=MessageStatus.HELD_OUT)),
            skipped=Count("id", filter=Q(status=MessageStatus.SKIPPED)),
        )
    )
    return {row.pop("campaign_id"): row for row in rows}


@require_http_methods(["GET", "POST"])
@permission_required("marketing.add_campaign", raise_exception=True)
def campaign_create_view(request: HttpRequest) -> HttpResponse:
    return _editor(request, campaign=None)


@require_http_methods(["GET", "POST"])
def campaign_edit_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_campaign_for_user(request.user, campaign_id, perm="marketing.change_campaign")
    if campaign.status not in EDITABLE:
        messages.error(request, _("This campaign has started: it can no longer be edited."))
        return redirect(campaign)
    return _editor(request, campaign=campaign)


def _editor(request: HttpRequest, *, campaign: Campaign | None) -> HttpResponse:
    form = CampaignForm(request.POST or None, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            if campaign is None:
                saved = campaign_create(**form.service_fields(), actor=request.user)
            else:
                saved = campaign_update(campaign=campaign, **form.service_fields(), actor=request.user)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Campaign “%(name)s” saved.") % {"name": saved.name})
            return redirect(saved)
    context = {
        "form": form,
        "campaign": campaign,
        "site_language": settings.LANGUAGE_CODE,
        "variables": [(name, description) for name, (description, _sample) in templating.variables().items()],
    }
    return render(request, "marketing/campaign_form.html", context, status=400 if request.method == "POST" else 200)


@require_GET
def campaign_detail_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_campaign_for_user(request.user, campaign_id)
    variants = list(campaign.variants.prefetch_related("templates"))
    before = campaign.status in EDITABLE
    context = {
        "campaign": campaign,
        "variants": variants,
        "before_sending": before,
        "results_url": _results_url(campaign),
        "progress": None if before else _progress(campaign),
        "schedule_form": CampaignScheduleForm(initial={"send_at": campaign.send_at}),
        "preview_form": PreviewMemberForm(),
        "sms_lengths": sms_lengths(campaign, variants) if campaign.channel == ConsentChannel.SMS else [],
    }
    if before and campaign.channel == ConsentChannel.EMAIL:
        context["test_form"] = CampaignTestSendForm(campaign=campaign)
    return render(request, "marketing/campaign_detail.html", context)


def _results_url(campaign: Campaign) -> str | None:
    """The results page, once the results work is installed; None until then."""
    if campaign.status in EDITABLE:
        return None
    try:
        return reverse("marketing:campaign_results", args=[campaign.pk])
    except NoReverseMatch:
        return None


def _progress(campaign: Campaign) -> dict:
    """The engine's counts by status, as the bar shows them: done (left us), queued, and the parts."""
    answer = sending.progress(campaign=campaign)
    counts = {status: answer.get(status, 0) for status in MessageStatus.values}
    total = sum(counts.values())
    not_sent = counts[MessageStatus.HELD_OUT] + counts[MessageStatus.SKIPPED]
    to_send = total - not_sent
    done = sum(counts[s] for s in FINISHED)
    return {
        "counts": [(MessageStatus(s).label, s, n) for s, n in counts.items() if n],
        "total": total,
        "to_send": to_send,
        "done": done,
        "failed": counts[MessageStatus.FAILED] + counts[MessageStatus.UNKNOWN],
        # Queued for the A/B test's winner: sent once it is chosen.
        "waiting": answer.get("waiting", 0),
        "percent": round(100 * done / to_send) if to_send else 100,
    }


@require_GET
def campaign_progress_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """The progress bar, polled by htmx while the campaign sends. When the state changed under the page (the
    last batch finished, an auto-pause), the whole page reloads so its buttons match."""
    campaign = get_campaign_for_user(request.user, campaign_id)
    context = {"campaign": campaign, "progress": _progress(campaign) if campaign.status not in EDITABLE else None}
    response = render(request, "marketing/campaign_detail.html#progress", context)
    if is_fragment_request(request) and request.GET.get("status") != campaign.status:
        response["HX-Refresh"] = "true"
    return response


def _act(request: HttpRequest, campaign_id: int, action, done: str, *, queues: bool = False) -> HttpResponse:
    """Call one of the engine's state services; its refusal (a ValidationError) is shown, never a 500. An action
    that `queues` batches says so if they wait for the queue service (crm/queue.py)."""
    campaign = get_campaign_for_user(request.user, campaign_id, perm="marketing.send_campaign")
    try:
        action(campaign)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    else:
        messages.success(request, done % {"name": campaign.name})
        if queues:
            tell_if_waiting(request)
    return redirect(campaign)


@require_POST
def campaign_start_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    return _act(
        request,
        campaign_id,
        lambda c: sending.campaign_start(campaign=c, actor=request.user),
        _("“%(name)s” is sending."),
        queues=True,
    )


@require_POST
def campaign_schedule_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    form = CampaignScheduleForm(request.POST)
    if not form.is_valid():
        campaign = get_campaign_for_user(request.user, campaign_id, perm="marketing.send_campaign")
        errors = form.errors.get("send_at") or [_("Choose when to send.")]
        messages.error(request, " ".join(errors))
        return redirect(campaign)
    send_at = form.cleaned_data["send_at"]
    return _act(
        request,
        campaign_id,
        lambda c: sending.campaign_schedule(campaign=c, send_at=send_at, actor=request.user),
        _("“%(name)s” is scheduled."),
    )


@require_POST
def campaign_pause_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    return _act(
        request,
        campaign_id,
        lambda c: sending.campaign_pause(campaign=c, actor=request.user),
        _("“%(name)s” is paused: nothing more is sent until you resume it."),
    )


@require_POST
def campaign_resume_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    return _act(
        request,
        campaign_id,
        lambda c: sending.campaign_resume(campaign=c, actor=request.user),
        _("“%(name)s” is sending again, from where it stopped."),
        queues=True,
    )


@require_http_methods(["GET", "POST"])
def campaign_cancel_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Asks first (GET), cancels on the answer (POST): what was sent stays sent, the rest is not sent."""
    if request.method == "POST":
        return _act(
            request,
            campaign_id,
            lambda c: sending.campaign_cancel(campaign=c, actor=request.user),
            _("“%(name)s” is cancelled."),
        )
    campaign = get_campaign_for_user(request.user, campaign_id, perm="marketing.send_campaign")
    return render(request, "marketing/campaign_cancel.html", {"campaign": campaign})

"""What a marketer checks before sending: the audience (who would be sent, who skipped and why), one member's
message as they would get it, the SMS length and parts, a test send to oneself; and the editor's live check
of a template as it is typed."""

import re

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm.lib import crm_number
from crm.lib.htmx import is_fragment_request
from customers import personal
from customers.models import ConsentChannel, Customer
from customers.selectors import customers_visible_to
from marketing import rendering, templating
from marketing.access import get_campaign_for_user
from marketing.channels import SendFailed
from marketing.channels.sms import with_opt_out
from marketing.forms import CampaignTestSendForm, PreviewMemberForm
from marketing.models import Campaign, CampaignVariant, SkipReason
from marketing.selectors import segment_members, segment_preview
from marketing.services import sending
from marketing.services.campaigns import LABELS, PARTS

SAMPLE_MEMBERS = 5


def sms_length(body: str, language: str) -> templating.SmsLength:
    """As sent: with the SMS channel's opt-out line in `language`."""
    return templating.sms_length(with_opt_out(body, language))


def sms_lengths(campaign: Campaign, variants: list[CampaignVariant]) -> list[tuple[str, str, templating.SmsLength]]:
    """Each variant's text in each language, rendered with the sample values, with the opt-out line."""
    languages = dict(settings.LANGUAGES)
    rows = []
    for variant in variants:
        for template in variant.templates.all():
            rendered = templating.render(subject="", body=template.body, html="", context=_sample(campaign))
            rows.append(
                (
                    variant.label,
                    languages.get(template.language, template.language),
                    sms_length(rendered.body, template.language),
                )
            )
    return rows


def _sample(campaign: Campaign | None) -> dict:
    context = templating.sample_context()
    if campaign is not None and campaign.offer_id is None:
        context["coupon_code"] = context["coupon_expiry"] = ""
    return context


@require_GET
def campaign_audience_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Who would be sent and who skipped, and why, as of now (loaded after the page: it counts the segment)."""
    campaign = get_campaign_for_user(request.user, campaign_id)
    answer = sending.audience_preview(campaign=campaign)
    context = {
        "campaign": campaign,
        "would_send": answer["would_send"],
        "held_out": answer["held_out"],
        "skipped": [(SkipReason(reason).label, n) for reason, n in answer["skipped"].items() if n],
    }
    return render(request, "marketing/includes/campaign_audience.html", context)


@require_GET
def campaign_preview_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """One member's message in their language, each variant; a CRM number typed, else a sample member."""
    campaign = get_campaign_for_user(request.user, campaign_id)
    form = PreviewMemberForm(request.GET)
    visible = customers_visible_to(request.user)
    samples = segment_preview(segment_members(campaign.segment) & visible, limit=SAMPLE_MEMBERS)
    customer, error = None, ""
    text = form.data.get("number", "").strip() if form.is_valid() else ""
    if text:
        try:
            number = crm_number.parse(text)
        except crm_number.InvalidCrmNumber:
            number = None
        customer = visible.select_related("tier").filter(crm_number=number).first() if number else None
        if customer is None:
            error = _("No member has the CRM number %(number)s.") % {"number": text[:40]}
    elif samples:
        customer = samples[0]
    context = {"campaign": campaign, "samples": samples, "customer": customer, "error": error, "preview_form": form}
    if customer is not None:
        context |= _member_preview(request, campaign, customer)
    template = "marketing/campaign_preview.html"
    return render(request, template + "#preview" if is_fragment_request(request) else template, context)


def _member_preview(request: HttpRequest, campaign: Campaign, customer: Customer) -> dict:
    language = rendering.member_language(customer)
    values = rendering.context_for(customer)
    if campaign.offer_id:  # each member's own code is issued when sending; the preview shows the sample's
        sample = templating.sample_context()
        values |= {"coupon_code": sample["coupon_code"], "coupon_expiry": sample["coupon_expiry"]}
    values["unsubscribe_url"] = templating.sample_context()["unsubscribe_url"]
    messages_by_variant = []
    for variant in campaign.variants.prefetch_related("templates"):
        template = rendering.template_for(variant, language)
        if template is None:
            continue
        try:
            rendered = templating.render(
                subject=template.subject, body=template.body, html=template.html, context=values
            )
        except templating.TemplateError as error:  # this member's values break the template: say so
            rendered = templating.Rendered(subject="", body=str(error), html="")
        length = sms_length(rendered.body, template.language) if campaign.channel == ConsentChannel.SMS else None
        messages_by_variant.append((variant.label, template, rendered, length))
    email = campaign.channel == ConsentChannel.EMAIL
    address_field = "email" if email else "mobile"
    return {
        "language": dict(settings.LANGUAGES).get(language, language),
        # Masked for everyone, as on the member's page; one who may see it can reveal it there (or here).
        "address": personal.masked(customer, address_field),
        "address_field": address_field,
        "consent": customer.email_opt_in if email else customer.sms_opt_in,
        "in_segment": segment_members(campaign.segment).filter(pk=customer.pk).exists(),
        "rendered": messages_by_variant,
    }


@require_POST
def campaign_test_send_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """The chosen variant and language, rendered with the sample values, to the signed-in user's own e-mail."""
    campaign = get_campaign_for_user(request.user, campaign_id, perm="marketing.change_campaign")
    form = CampaignTestSendForm(request.POST, campaign=campaign)
    if not request.user.email:
        messages.error(request, _("Your account has no e-mail address to send the test to."))
    elif not form.is_valid():
        messages.error(request, _("Choose a variant and a language."))
    else:
        variant = campaign.variants.get(label=form.cleaned_data["variant"])
        try:
            sending.message_send_test(
                variant=variant, language=form.cleaned_data["language"], to=request.user.email, actor=request.user
            )
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))
        except SendFailed as e:
            messages.error(request, _("The test was not sent: %(reason)s") % {"reason": e.reason})
        else:
            messages.success(request, _("Test sent to %(address)s.") % {"address": request.user.email})
    return redirect(campaign)


FIELD = re.compile(rf"^([{LABELS}])-([a-z-]+)-({'|'.join(PARTS)})$")


@require_POST
def campaign_template_check_view(request: HttpRequest) -> HttpResponse:
    """The editor's check as you type (htmx): the error with its line, or that it is fine; for an SMS text
    its length and parts with the sample values and the opt-out line."""
    if not (request.user.has_perm("marketing.add_campaign") or request.user.has_perm("marketing.change_campaign")):
        raise PermissionDenied
    name = request.POST.get("field", "")
    match = FIELD.match(name)
    if match is None or match[2] not in dict(settings.LANGUAGES):
        return HttpResponse(status=400)
    language, part = match[2], match[3]
    source = request.POST.get(name, "")
    context = {"field": name, "error": "", "length": None, "empty": not source.strip()}
    try:
        templating.check(source)
    except templating.TemplateError as e:
        context["error"] = str(e)
    else:
        if part == "body" and request.POST.get("channel") == ConsentChannel.SMS and source.strip():
            body = templating.render(subject="", body=source, html="", context=_sample(None)).body
            context["length"] = sms_length(body, language)
    return render(request, "marketing/includes/template_check.html", context)

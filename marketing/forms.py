import datetime
import json

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.lib.uploads import check_upload_size
from customers.models import ConsentChannel
from interactions.models import Product
from marketing.models import Automation, AutomationKind, Campaign, CouponOffer, MessageTemplate, RewardItem, Segment
from marketing.selectors import offers_open, rewards_offered
from marketing.services.campaigns import LABELS, PARTS, TemplateText, template_field

# The list is read in the web request (marketing.services.segment_upload), so smaller than an import's file.
MAX_UPLOAD_BYTES = 32 * 1024 * 1024


class SegmentForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = ["name", "description"]
        widgets = {
            "name": forms.TextInput(attrs={"class": "form-control", "maxlength": 100}),
            "description": forms.TextInput(attrs={"class": "form-control", "maxlength": 255}),
        }


class FreezeForm(forms.Form):
    name = forms.CharField(label=_("Name of the list"), max_length=100)


class SegmentUploadForm(forms.ModelForm):
    file = forms.FileField(
        label=_("File"),
        help_text=_("A CSV or text file with one CRM number or mobile number per line (the first column is read)."),
    )

    class Meta:
        model = Segment
        fields = ["name", "description"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        check_upload_size(upload, limit=MAX_UPLOAD_BYTES)
        if not upload.name.lower().endswith((".csv", ".txt")):
            raise forms.ValidationError(_("Upload a .csv or .txt file."))
        return upload


class WhyForm(forms.Form):
    number = forms.CharField(label=_("CRM number"), max_length=40)


class SegmentExportForm(forms.Form):
    format = forms.ChoiceField(label=_("Format"), choices=[("csv", "CSV"), ("xlsx", "Excel")])


class CouponOfferForm(forms.ModelForm):
    class Meta:
        model = CouponOffer
        fields = [
            "name",
            "description",
            "kind",
            "value",
            "min_spend",
            "valid_from",
            "valid_to",
            "valid_days",
            "per_member_limit",
            "max_issued",
            "products",
            "categories",
            "active",
        ]
        widgets = {
            "valid_from": forms.DateInput(attrs={"type": "date"}),
            "valid_to": forms.DateInput(attrs={"type": "date"}),
            "products": forms.SelectMultiple(attrs={"size": 5}),
            "categories": forms.SelectMultiple(attrs={"size": 5}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["products"].queryset = Product.objects.filter(active=True).order_by("sku")
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(Column("name", css_class="col-md-6"), Column("description", css_class="col-md-6")),
            Row(
                Column("kind", css_class="col-6 col-md-3"),
                Column("value", css_class="col-6 col-md-3"),
                Column("min_spend", css_class="col-6 col-md-3"),
                Column("per_member_limit", css_class="col-6 col-md-3"),
            ),
            Row(
                Column("valid_from", css_class="col-6 col-md-3"),
                Column("valid_to", css_class="col-6 col-md-3"),
                Column("valid_days", css_class="col-6 col-md-3"),
                Column("max_issued", css_class="col-6 col-md-3"),
            ),
            Row(Column("products", css_class="col-md-6"), Column("categories", css_class="col-md-6")),
            "active",
            Submit("save", _("Save offer")),
        )


class CouponIssueForm(forms.Form):
    offer = forms.ModelChoiceField(label=_("Offer"), queryset=CouponOffer.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["offer"].queryset = offers_open().order_by("name")
        self.helper = FormHelper()
        self.helper.form_tag = False  # the page's or the panel's <form> (customers/includes/form_panel.html)
        self.helper.add_input(Submit("issue", _("Issue coupon")))


class SegmentIssueForm(forms.Form):
    segment = forms.ModelChoiceField(
        label=_("Segment"),
        queryset=Segment.objects.order_by("name"),
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )


class RewardExchangeForm(forms.Form):
    item = forms.ModelChoiceField(label=_("Reward"), queryset=RewardItem.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = rewards_offered()
        self.fields["item"].label_from_instance = lambda item: (
            _("%(name)s · %(points)s points")
            % {
                "name": item.name,
                "points": f"{item.points_price:,}",
            }
        )
        self.helper = FormHelper()
        self.helper.form_tag = False  # the page's or the panel's <form> (customers/includes/form_panel.html)
        self.helper.add_input(Submit("exchange", _("Exchange points")))


# Campaigns (marketing/views/campaigns.py). The template fields are named by services.campaigns.template_field,
# so the service's errors land under the field they are about.
class CampaignForm(forms.ModelForm):
    variant_count = forms.TypedChoiceField(
        label=_("Variants"),
        coerce=int,
        choices=[(1, _("One (no A/B test)")), (2, _("A/B test: 2")), (3, _("A/B test: 3")), (4, _("A/B test: 4"))],
        initial=1,
        help_text=_("Two to four versions, each sent to a random share; the best one then goes to the rest."),
    )

    class Meta:
        model = Campaign
        fields = [
            "name",
            "channel",
            "segment",
            "offer",
            "send_at",
            "control_percent",
            "attribution_days",
            "test_percent",
            "winner_metric",
            "winner_after_hours",
        ]
        widgets = {
            "send_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }
        help_texts = {
            "send_at": _("Empty: send when you press “Start now” on the campaign's page."),
            "test_percent": _("The share of the members (after the control group) that the variants are tried on."),
        }

    def __init__(self, *args, campaign: Campaign | None = None, **kwargs):
        super().__init__(*args, instance=campaign, **kwargs)
        self.fields["segment"].queryset = Segment.objects.order_by("name")
        self.fields["segment"].required = True  # only an automation has none
        self.fields["segment"].empty_label = _("Choose a segment")
        offers = offers_open()
        if campaign is not None and campaign.offer_id:
            offers = offers | CouponOffer.objects.filter(pk=campaign.offer_id)  # keep one that closed since
        self.fields["offer"].queryset = offers.order_by("name")
        self.fields["offer"].empty_label = _("No coupon")
        self.fields["send_at"].required = False
        self.languages = list(settings.LANGUAGES)
        stored = _stored_texts(campaign)
        if campaign is not None:
            self.fields["variant_count"].initial = max(len(stored), 1)
        for label in LABELS:
            for language, _name in self.languages:
                for part in PARTS:
                    name = template_field(label, language, part)
                    self.fields[name] = _template_field(part)
                    # Checked as it is typed (campaign_template_check), the SMS length with the channel chosen.
                    self.fields[name].widget.attrs |= {
                        "hx-post": reverse("marketing:campaign_template_check"),
                        "hx-trigger": "input changed delay:500ms, recheck",
                        "hx-target": f"#check-{name}",
                        "hx-swap": "outerHTML",
                        "hx-sync": "this:replace",
                        "hx-include": "#id_channel",
                        "hx-vals": json.dumps({"field": name}),
                        "data-template-part": part,
                    }
                    self.fields[name].initial = getattr(stored.get(label, {}).get(language), part, "")

    def clean_send_at(self):
        return _bounded_send_at(self.cleaned_data["send_at"], changed="send_at" in self.changed_data)

    def variant_sections(self) -> list[tuple[str, list[tuple[str, str, list]]]]:
        """(label, [(language, its name, [bound subject, body, html])]) for the page."""
        return [
            (
                label,
                [(code, name, [self[template_field(label, code, p)] for p in PARTS]) for code, name in self.languages],
            )
            for label in LABELS
        ]

    def service_fields(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        count = self.cleaned_data["variant_count"]
        data["variants"] = [
            {
                code: TemplateText(**{p: self.cleaned_data[template_field(label, code, p)] for p in PARTS})
                for code, _name in self.languages
            }
            for label in LABELS[:count]
        ]
        return data


def _template_field(part: str) -> forms.CharField:
    labels = {"subject": pgettext_lazy("e-mail", "Subject"), "body": _("Text"), "html": _("HTML (optional)")}
    if part == "subject":
        widget = forms.TextInput(attrs={"maxlength": 200, "autocomplete": "off"})
    else:
        widget = forms.Textarea(attrs={"rows": 6 if part == "body" else 4, "spellcheck": "true"})
    # Not stripped: a template's spacing and line breaks are the message's, and its error lines must match.
    return forms.CharField(label=labels[part], required=False, strip=False, widget=widget, max_length=20_000)


def _stored_texts(campaign: Campaign | None) -> dict[str, dict[str, MessageTemplate]]:
    if campaign is None or campaign.pk is None:
        return {}
    return {
        variant.label: {t.language: t for t in variant.templates.all()}
        for variant in campaign.variants.prefetch_related("templates")
    }


class CampaignScheduleForm(forms.Form):
    send_at = forms.DateTimeField(
        label=_("Send at"),
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "class": "form-control form-control-sm"}, format="%Y-%m-%dT%H:%M"
        ),
    )

    def clean_send_at(self):
        return _bounded_send_at(self.cleaned_data["send_at"], changed=True)


SEND_AT_HORIZON = datetime.timedelta(days=366)


def _bounded_send_at(value: datetime.datetime | None, *, changed: bool) -> datetime.datetime | None:
    """A send time in the coming year. Checked on the form too, so a far date never reaches the database (a
    year-1 time in a zone east of UTC does not fit Postgres' range once converted)."""
    if value is None or not changed:
        return value
    now = timezone.now()
    if value <= now:
        raise forms.ValidationError(_("The send time has passed: choose a later one."))
    if value > now + SEND_AT_HORIZON:
        raise forms.ValidationError(_("Choose a send time within a year."))
    return value


class CampaignTestSendForm(forms.Form):
    variant = forms.ChoiceField(label=_("Variant"), widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
    language = forms.ChoiceField(
        label=_("Language"),
        choices=settings.LANGUAGES,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["variant"].choices = [(v.label, v.label) for v in campaign.variants.all()]


class PreviewMemberForm(forms.Form):
    number = forms.CharField(label=_("CRM number"), max_length=40, required=False)


class AutomationForm(forms.ModelForm):
    """An automation's switch and the timing fields its kind uses (the others are left out)."""

    FIELDS_BY_KIND = {
        AutomationKind.BIRTHDAY: ["days"],
        AutomationKind.POINTS_EXPIRY: ["days"],
        AutomationKind.WIN_BACK: ["days"],
        AutomationKind.BROWSE_ABANDONMENT: ["views", "days"],
        AutomationKind.SURVEY: ["delay_hours"],
    }

    class Meta:
        model = Automation
        fields = ["enabled", "days", "views", "delay_hours"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kept = ["enabled", *self.FIELDS_BY_KIND.get(self.instance.kind, [])]
        for name in list(self.fields):
            if name not in kept:
                del self.fields[name]
        self.order_fields(kept)
        if "days" in self.fields and self.instance.days_label:
            self.fields["days"].label = self.instance.days_label
            self.fields["days"].help_text = ""
        for field in self.fields.values():
            if isinstance(field.widget, forms.NumberInput):
                field.widget.attrs.update({"class": "form-control form-control-sm", "style": "width: 6rem"})


class AutomationMessageForm(forms.Form):
    """An automation's message: its campaign's channel, offer, control group and attribution, and its text per
    language (the template checks run in the service, which names the field and line of an error)."""

    channel = forms.ChoiceField(label=_("Channel"), choices=ConsentChannel.choices)
    offer = forms.ModelChoiceField(
        label=_("Coupon offer"), queryset=CouponOffer.objects.none(), required=False, empty_label=_("No coupon")
    )
    control_percent = forms.IntegerField(
        label=_("Control group %"),
        min_value=0,
        max_value=50,
        help_text=_("This share of the members is held out at random, to measure what the automation earns."),
    )
    attribution_days = forms.IntegerField(label=_("Attribution window (days)"), min_value=1, max_value=90)
    segment = forms.ModelChoiceField(
        label=_("Only members of segment"),
        queryset=Segment.objects.none(),
        required=False,
        empty_label=_("Everyone the occasion finds"),
        help_text=_(
            "E.g. a win-back only for members whose probability of being active has fallen below 30%: "
            "the segment is checked when each occasion is found."
        ),
    )

    def __init__(self, *args, campaign, **kwargs):
        initial = {
            "channel": campaign.channel,
            "segment": campaign.segment_id,
            "offer": campaign.offer_id,
            "control_percent": campaign.control_percent,
            "attribution_days": campaign.attribution_days,
        }
        templates = {t.language: t for v in campaign.variants.all() if v.label == "A" for t in v.templates.all()}
        super().__init__(*args, initial=initial, **kwargs)
        offers = offers_open()
        if campaign.offer_id:
            offers = offers | CouponOffer.objects.filter(pk=campaign.offer_id)
        self.fields["offer"].queryset = offers.order_by("name")
        self.fields["segment"].queryset = Segment.objects.order_by("name")
        self.languages = []
        for code, name in settings.LANGUAGES:
            template = templates.get(code)
            self.fields[f"subject_{code}"] = forms.CharField(
                label=_("Subject (%(language)s)") % {"language": name},
                max_length=200,
                required=False,
                initial=template.subject if template else "",
            )
            self.fields[f"body_{code}"] = forms.CharField(
                label=_("Text (%(language)s)") % {"language": name},
                required=False,
                widget=forms.Textarea(attrs={"rows": 5}),
                initial=template.body if template else "",
            )
            self.fields[f"html_{code}"] = forms.CharField(
                label=_("HTML (%(language)s, e-mail only)") % {"language": name}, required=False,
                widget=forms.Textarea(attrs={"rows": 4}), initial=template.html if template else "",
            )  # fmt: skip
            self.languages.append((code, name))

"""Writing a campaign before it sends: its settings, its variants (A-D) and a template per language.

The campaign pages, the admin and any later API call these two services, so the rules live once:
- only a draft, or a scheduled campaign that has not started, may change (a started campaign's messages were
  rendered from what it said then);
- every template part passes marketing.templating.check, so an error shows in the editor with its line and
  never at send time;
- the site's language (settings.LANGUAGE_CODE) is required, other languages are optional: a member who reads
  one that is left empty gets the site's (marketing.rendering.template_for).

Errors are raised as one ValidationError whose keys are the campaign's field names and, for a template part,
`template_field(label, language, part)`, which the campaign form also uses to name its fields.
"""

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.lib.users import acting_user
from customers.models import ConsentChannel
from marketing import templating
from marketing.models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    CampaignVariant,
    CouponOffer,
    MessageTemplate,
    Segment,
    WinnerMetric,
)

LABELS = "ABCD"
MAX_VARIANTS = len(LABELS)
EDITABLE = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)
PARTS = ("subject", "body", "html")


@dataclass(frozen=True)
class TemplateText:
    """One language of one variant, as typed. For SMS only `body` is used."""

    subject: str = ""
    body: str = ""
    html: str = ""

    @property
    def empty(self) -> bool:
        return not (self.subject.strip() or self.body.strip() or self.html.strip())


# A variant is its texts by language; the list's order gives the labels A, B, C, D.
VariantTexts = Mapping[str, TemplateText]


def template_field(label: str, language: str, part: str) -> str:
    """The error key (and the form's field name) of one template part: "A-zh-hans-body"."""
    return f"{label}-{language}-{part}"


def parts_for(channel: str) -> tuple[str, ...]:
    return PARTS if channel == ConsentChannel.EMAIL else ("body",)


def campaign_create(
    *,
    name: str,
    channel: str,
    segment: Segment,
    offer: CouponOffer | None = None,
    send_at: datetime.datetime | None = None,
    control_percent: int = 10,
    attribution_days: int = 7,
    test_percent: int = 20,
    winner_metric: str = WinnerMetric.REVENUE,
    winner_after_hours: int = 24,
    variants: Sequence[VariantTexts],
    actor: AbstractBaseUser | None,
) -> Campaign:
    """A new draft campaign with its variants and templates, all checked, in one transaction."""
    campaign = Campaign(kind=CampaignKind.ONE_OFF, created_by=acting_user(actor))
    with transaction.atomic():
        return _save(
            campaign,
            name=name,
            channel=channel,
            segment=segment,
            offer=offer,
            send_at=send_at,
            control_percent=control_percent,
            attribution_days=attribution_days,
            test_percent=test_percent,
            winner_metric=winner_metric,
            winner_after_hours=winner_after_hours,
            variants=variants,
        )


def campaign_update(
    *,
    campaign: Campaign,
    name: str,
    channel: str,
    segment: Segment,
    offer: CouponOffer | None,
    send_at: datetime.datetime | None,
    control_percent: int,
    attribution_days: int,
    test_percent: int,
    winner_metric: str,
    winner_after_hours: int,
    variants: Sequence[VariantTexts],
    actor: AbstractBaseUser | None,
) -> Campaign:
    """Change a draft, or a scheduled campaign before it starts; a started one is refused, unchanged.

    The row is locked first, so a start (which locks it too) and an edit cannot interleave: either the edit
    lands before the membership is frozen, or it is refused."""
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.kind != CampaignKind.ONE_OFF:
            raise ValidationError(_("An automation is edited on its own page."))
        if locked.status not in EDITABLE:
            raise ValidationError(
                _("This campaign is %(status)s: it can no longer be edited. Copy it into a new campaign instead.")
                % {"status": locked.get_status_display().lower()}
            )
        if locked.status == CampaignStatus.SCHEDULED and send_at is None:
            raise ValidationError({"send_at": _("A scheduled campaign needs a send time.")})
        saved = _save(
            locked,
            name=name,
            channel=channel,
            segment=segment,
            offer=offer,
            send_at=send_at,
            control_percent=control_percent,
            attribution_days=attribution_days,
            test_percent=test_percent,
            winner_metric=winner_metric,
            winner_after_hours=winner_after_hours,
            variants=variants,
        )
    campaign.refresh_from_db()
    return saved


def _save(campaign: Campaign, *, variants: Sequence[VariantTexts], **fields: object) -> Campaign:
    old_send_at = campaign.send_at
    for field, value in fields.items():
        setattr(campaign, field, value.strip() if isinstance(value, str) else value)
    errors: dict[str, list[str]] = {}
    send_at = campaign.send_at
    if send_at is not None and send_at != old_send_at and send_at <= timezone.now():
        errors["send_at"] = [_("The send time has passed: choose a later one, or leave it empty and start by hand.")]
    texts = _checked_variants(campaign.channel, variants, errors)
    try:
        campaign.full_clean()
    except ValidationError as e:
        for key, messages in e.message_dict.items():
            errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():  # a savepoint: a name taken meanwhile is the same message as the check's
            campaign.save()
    except IntegrityError:
        if Campaign.objects.filter(name=campaign.name).exclude(pk=campaign.pk).exists():
            raise ValidationError({"name": campaign.unique_error_message(Campaign, ["name"])}) from None
        raise
    _write_variants(campaign, texts)
    return campaign


def _checked_variants(
    channel: str, variants: Sequence[VariantTexts], errors: dict[str, list[str]]
) -> list[dict[str, TemplateText]]:
    """The variants' texts to store (SMS keeps the body only), collecting each part's error under its key."""
    if not 1 <= len(variants) <= MAX_VARIANTS:
        errors.setdefault("variants", []).append(_("A campaign has one to four variants."))
        return []
    languages = dict(settings.LANGUAGES)
    parts = parts_for(channel)
    result = []
    for label, by_language in zip(LABELS, variants, strict=False):
        kept: dict[str, TemplateText] = {}
        for language, text in by_language.items():
            if language not in languages:
                errors.setdefault("variants", []).append(
                    _("“%(code)s” is not a language of this site.") % {"code": language}
                )
                continue
            text = TemplateText(**{part: getattr(text, part) if part in parts else "" for part in PARTS})
            if text.empty and language != settings.LANGUAGE_CODE:
                continue  # members who read it get the site's language
            for part in parts:
                key = template_field(label, language, part)
                source = getattr(text, part)
                if not source.strip():
                    if part == "body" or (part == "subject" and channel == ConsentChannel.EMAIL):
                        errors.setdefault(key, []).append(
                            _("Write the subject.") if part == "subject" else _("Write the text.")
                        )
                    continue
                try:
                    templating.check(source)
                except templating.TemplateError as e:
                    errors.setdefault(key, []).append(str(e))
                if part == "subject" and len(source) > MessageTemplate._meta.get_field("subject").max_length:
                    errors.setdefault(key, []).append(_("A subject is at most 200 characters."))
            kept[language] = text
        if settings.LANGUAGE_CODE not in kept:
            errors.setdefault(template_field(label, settings.LANGUAGE_CODE, "body"), []).append(_("Write the text."))
        result.append(kept)
    return result


def _write_variants(campaign: Campaign, texts: list[dict[str, TemplateText]]) -> None:
    """Make the stored variants and templates match: labels past the count go (a campaign that has not started
    has no message rows pointing at them), templates left empty go."""
    labels = LABELS[: len(texts)]
    CampaignVariant.objects.filter(campaign=campaign).exclude(label__in=labels).delete()
    for label, by_language in zip(labels, texts, strict=True):
        variant, _created = CampaignVariant.objects.get_or_create(campaign=campaign, label=label)
        MessageTemplate.objects.filter(variant=variant).exclude(language__in=by_language).delete()
        for language, text in by_language.items():
            template = MessageTemplate.objects.filter(variant=variant, language=language).first() or MessageTemplate(
                variant=variant, language=language
            )
            template.subject, template.body, template.html = text.subject.strip(), text.body, text.html
            template.full_clean()
            template.save()

"""A test send to yourself: the variant's template with sample values, through the real channel, no row."""

import smtplib
import uuid
from urllib.parse import urlsplit

from anymail.exceptions import AnymailError
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import translation
from django.utils.translation import gettext as _

from customers.models import ConsentChannel
from marketing import channels, links, rendering, templating
from marketing.channels import SendFailed
from marketing.models import CampaignVariant
from marketing.services.sending.batch import build_outgoing


def message_send_test(*, variant: CampaignVariant, language: str, to: str, actor: AbstractBaseUser | None) -> None:
    """Render the variant's template in `language` with sample values and send it to `to`; writes no Message
    row. ValidationError with the channel's reason when it is refused."""
    template = rendering.template_for(variant, language)
    if template is None:
        raise ValidationError(_("This variant has no template yet."))
    to = to.strip()
    if not to:
        raise ValidationError(_("Enter an address to send the test to."))
    if variant.campaign.channel == ConsentChannel.EMAIL:
        validate_email(to)  # one address: a list in the field would send the test to others too
    channel = channels.get(variant.campaign.channel)
    unsubscribe = links.unsubscribe_url(0)  # leads to "not found": a test has no row to unsubscribe from
    context = templating.sample_context() | {"unsubscribe_url": unsubscribe}
    name = getattr(actor, "get_full_name", lambda: "")()
    if name:
        context["name"] = name  # the tester sees their own name where the member's goes
    with translation.override(template.language):
        try:
            rendered = templating.render(
                subject=template.subject, body=template.body, html=template.html, context=context
            )
        except templating.TemplateError as error:
            raise ValidationError(str(error)) from None
        rendered = templating.Rendered(
            subject=_("[Test] %(subject)s") % {"subject": rendered.subject}, body=rendered.body, html=rendered.html
        )
        host = urlsplit(settings.CRM_BASE_URL).hostname or "localhost"
        out = build_outgoing(
            channel,
            message_id=0,
            to=to,
            rendered=rendered,
            template=template,
            unsubscribe_url=unsubscribe,
            key=f"<crm-test-{uuid.uuid4().hex}@{host}>",
        )
    try:
        answers = list(channel.send([out]))
    except (OSError, smtplib.SMTPException, AnymailError) as error:
        raise ValidationError(_("The test could not be sent: %(reason)s") % {"reason": error}) from None
    for _out, answer in answers:
        if isinstance(answer, SendFailed):
            raise ValidationError(_("The test was refused: %(reason)s") % {"reason": answer.reason})

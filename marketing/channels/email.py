"""The e-mail channel: Django's e-mail backends (SMTP, console in development, django-anymail for providers).

Every message carries, besides its text and HTML parts:
- `List-Unsubscribe: <https://…/u/<token>/>` and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`
  (RFC 8058: a mail client unsubscribes with one POST), and the same signed link in the body when the template
  has no {{ unsubscribe_url }} of its own;
- a Message-ID made from the message row (`<crm-msg-<id>@host>`): stable across attempts, so a provider that
  deduplicates on it (and our tracking webhooks) know the message;
- an open pixel, and click redirects for the links that were literally in the template (a link built from a
  variable is left alone, so a redirect can never be made to lead elsewhere).
"""

import datetime
import email.policy
import email.utils
import html as html_lib
import re
import smtplib
from collections.abc import Iterable, Iterator
from email.headerregistry import BaseHeader, HeaderRegistry
from functools import lru_cache
from urllib.parse import urlsplit

from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils.timezone import get_current_timezone
from django.utils.translation import gettext as _

from customers.models import ConsentChannel
from marketing import links, templating
from marketing.channels import Outgoing, SendFailed

_HREF = re.compile(r"""(\bhref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
# An SMTP answer about this message (a refused sender or recipient, a refused body): the connection is still
# good for the next one. Anything else (a dropped connection) stops the batch.
_REFUSALS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


def message_key(message_id: int) -> str:
    host = urlsplit(settings.CRM_BASE_URL).hostname or "localhost"
    return f"<crm-msg-{message_id}@{host}>"


@lru_cache(maxsize=256)
def literal_urls(source: str) -> frozenset[str]:
    """The http(s) links written out in a template's HTML (no variable or tag inside them)."""
    found = set()
    for _prefix, _quote, url in _HREF.findall(source):
        if "{" not in url and urlsplit(html_lib.unescape(url)).scheme in ("http", "https"):
            found.add(url)
    return frozenset(found)


def _rewrite(rendered_html: str, urls: frozenset[str], message_id: int) -> str:
    def swap(match: re.Match) -> str:
        prefix, quote, url = match.groups()
        if url not in urls:
            return match.group(0)
        tracked = html_lib.escape(links.click_url(message_id, html_lib.unescape(url)))
        return f"{prefix}{quote}{tracked}{quote}"

    return _HREF.sub(swap, rendered_html)


def _before_body_end(document: str, addition: str) -> str:
    at = document.lower().rfind("</body>")
    return document + addition if at < 0 else document[:at] + addition + document[at:]


class _ReusingHeaderRegistry(HeaderRegistry):
    """The standard library's header registry, parsing each distinct header value once.

    `email.message.EmailMessage` parses every header it is given (that is how it validates them), and its
    registry makes a new class for every header it parses or counts (`HeaderRegistry.__getitem__` calls
    `type()`). For a campaign message that was most of Django's `message()` (1.2 ms of CPU here, 0.3 ms with
    this registry), much of it for headers that are the same in every message (From, MIME-Version,
    Content-Type, Content-Transfer-Encoding, List-Unsubscribe-Post). A header object is immutable, so messages
    can share one for the same value; each new value is still parsed, and refused, by the standard library.
    """

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}
        # Room for the constant headers of many templates; a member's own values (To, Subject) just pass through.
        self._parse = lru_cache(maxsize=2048)(super().__call__)

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        found = self._classes.get(key)
        if found is None:
            found = self._classes[key] = super().__getitem__(name)
        return found

    def __call__(self, name: str, value: object) -> BaseHeader:
        if isinstance(value, str):
            return self._parse(name, value)
        return self[name](name, value)  # a date, an address list: unhashable or never repeated


@lru_cache(maxsize=16)  # a backend passes a module-level policy (default, SMTP): a few entries at most
def _reusing(policy: email.policy.EmailPolicy) -> email.policy.EmailPolicy:
    return policy.clone(header_factory=_ReusingHeaderRegistry())


class CampaignEmail(EmailMultiAlternatives):
    """Django's message, built with the policy the backend asks for (SMTP's, or the default that the locmem
    and console backends use) but with a header registry that parses a repeated header value once."""

    def message(self, *, policy: email.policy.Policy = email.policy.default):
        if isinstance(policy, email.policy.EmailPolicy) and type(policy.header_factory) is HeaderRegistry:
            policy = _reusing(policy)
        return super().message(policy=policy)


def _date() -> str:
    """The Date header Django would write (to the second, as it is written), as text: every message of that
    second then shares one parsed header."""
    zone = get_current_timezone() if settings.EMAIL_USE_LOCALTIME else datetime.UTC
    return email.utils.format_datetime(datetime.datetime.now(zone).replace(microsecond=0))


class EmailChannel:
    key = ConsentChannel.EMAIL
    consent_field = "email_opt_in"
    address_field = "email"

    def build(
        self,
        *,
        message_id: int,
        to: str,
        rendered: templating.Rendered,
        template,
        unsubscribe_url: str,
        key: str = "",
    ) -> Outgoing:
        """The message as sent, in the active language (the member's): headers, footer link, pixel, redirects."""
        body, document = rendered.body, rendered.html
        if "unsubscribe_url" not in template.body:
            body = f"{body.rstrip()}\n\n-- \n{_('Unsubscribe: %(url)s') % {'url': unsubscribe_url}}\n"
        if document:
            document = _rewrite(document, literal_urls(template.html), message_id)
            if "unsubscribe_url" not in template.html:
                link = f'<a href="{html_lib.escape(unsubscribe_url)}">{html_lib.escape(_("Unsubscribe"))}</a>'
                document = _before_body_end(document, f'<p style="font-size:small">{link}</p>')
            pixel = f'<img src="{html_lib.escape(links.open_url(message_id))}" width="1" height="1" alt="">'
            document = _before_body_end(document, pixel)
        key = key or message_key(message_id)
        headers = {
            "Message-ID": key,
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        return Outgoing(
            message_id=message_id, key=key, to=to, subject=rendered.subject, body=body, html=document, headers=headers
        )

    def send(self, batch: Iterable[Outgoing]) -> Iterator[tuple[Outgoing, str | SendFailed]]:
        """One connection for the batch, opened before the first message is taken (a server that is away
        raises here, with nothing handed over); each message's answer is yielded before the next is sent."""
        connection = get_connection(fail_silently=False)
        connection.open()
        try:
            for out in batch:
                email = CampaignEmail(
                    subject=out.subject,
                    body=out.body,
                    to=[out.to],
                    headers={"Date": _date(), **out.headers},
                    connection=connection,
                )
                if out.html:
                    email.attach_alternative(out.html, "text/html")
                try:
                    accepted = connection.send_messages([email])
                except _REFUSALS as error:
                    yield out, _refused(error)
                    continue
                except AnymailRecipientsRefused as error:  # a provider's suppression list, a bad address
                    yield out, SendFailed(str(error))
                    continue
                except AnymailAPIError as error:
                    if error.status_code is not None and 400 <= error.status_code < 500 and error.status_code != 429:
                        yield out, SendFailed(str(error))  # this message refused; the next may go
                        continue
                    raise  # the provider is away: the batch stops, its rows go back
                except ValueError as error:  # an address the backend cannot write into a header
                    yield out, SendFailed(str(error))
                    continue
                if not accepted:
                    yield out, SendFailed(_("The e-mail backend did not accept the message."))
                    continue
                yield out, _provider_id(email, out.key)
        finally:
            connection.close()


def _refused(error: smtplib.SMTPException) -> SendFailed:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(error.recipients.values()), (550, b""))
    else:
        code, text = error.smtp_code, error.smtp_error
    text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return SendFailed(f"{code} {text}".strip(), permanent=code >= 500)


def _provider_id(email: CampaignEmail, key: str) -> str:
    """A provider's own id (django-anymail's status) when it gives one, else our Message-ID."""
    status = getattr(email, "anymail_status", None)
    message_id = getattr(status, "message_id", None)
    if isinstance(message_id, str) and message_id:
        return message_id
    return key

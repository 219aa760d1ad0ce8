"""The SMS channel: a member's mobile, their SMS consent, and a backend chosen by CRM_SMS_BACKEND.

Backends (a dotted path in CRM_SMS_BACKEND):
- ConsoleBackend (development default): prints each message;
- FileBackend: writes each message as a JSON file, named by its key, into CRM_SMS_FILE_PATH;
- HttpGatewayBackend: POSTs a JSON body built from CRM_SMS_GATEWAY_BODY to CRM_SMS_GATEWAY_URL, with the
  message's key as an Idempotency-Key header, so a retried send is recognised by a gateway that honours it.

Every SMS ends with the opt-out instruction in the member's language (`with_opt_out`), which the editor's
length counter also uses, so the parts it shows are the parts that are paid for.
"""

import json
import logging
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import get_language

from customers.models import ConsentChannel
from marketing.channels import Outgoing, SendFailed
from marketing.models import MessageTemplate
from marketing.templating import Rendered

logger = logging.getLogger(__name__)

# The opt-out instruction by language (a prefix of the member's language code); CRM_SMS_OPT_OUT adds or
# replaces entries. Fixed texts, not translations: carriers check for these exact words.
OPT_OUT = {"zh": "回T退订", "en": "Reply STOP to opt out"}


def opt_out_instruction(language: str) -> str:
    texts = OPT_OUT | getattr(settings, "CRM_SMS_OPT_OUT", {})
    language = (language or settings.LANGUAGE_CODE).lower()
    for prefix in (language, language.split("-")[0]):
        if prefix in texts:
            return texts[prefix]
    return texts["en"]


def with_opt_out(text: str, language: str) -> str:
    """The SMS as sent: the text and the opt-out instruction in `language`, once (not again if already there)."""
    instruction = opt_out_instruction(language)
    text = text.rstrip()
    if text.endswith(instruction):
        return text
    return f"{text} {instruction}" if text else instruction


class SmsBackend(Protocol):
    def send(self, message: Outgoing) -> str:
        """Hand one SMS over; return the provider's id, or raise SendFailed."""
        ...


class ConsoleBackend:
    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send(self, message: Outgoing) -> str:
        self.stream.write(f"SMS to {message.to} [{message.key}]\n{message.body}\n{'-' * 40}\n")
        self.stream.flush()
        return f"console:{message.key}"


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class FileBackend:
    """One file per message, named by its key: a repeated send overwrites its own file instead of adding one."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path or settings.CRM_SMS_FILE_PATH)

    def send(self, message: Outgoing) -> str:
        self.path.mkdir(parents=True, exist_ok=True)
        name = _UNSAFE.sub("_", message.key)[:200] + ".json"
        record = {"to": message.to, "text": message.body, "key": message.key, "at": timezone.now().isoformat()}
        (self.path / name).write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        return f"file:{message.key}"


_PLACEHOLDER = re.compile(r"\{(to|text|key)\}")
# Refusals that may pass if tried again later: request timeout, rate limit.
_TRANSIENT_4XX = {408, 425, 429}


class HttpGatewayBackend:
    """A generic HTTP SMS gateway.

    CRM_SMS_GATEWAY_BODY is a JSON document whose strings may hold {to}, {text} and {key}; they are filled in
    after parsing, so a quote or a brace in the text cannot break the JSON. The provider's id is read from the
    answer by CRM_SMS_GATEWAY_ID_PATH (dots between keys, digits for list items: "data.0.id"). A 4xx answer
    is a permanent failure (but 408/425/429), a 5xx, a timeout or no connection a transient one.
    """

    def __init__(
        self,
        *,
        url: str | None = None,
        token: str | None = None,
        body: str | None = None,
        id_path: str | None = None,
        timeout: float | None = None,
    ):
        self.url = url if url is not None else settings.CRM_SMS_GATEWAY_URL
        self.token = token if token is not None else settings.CRM_SMS_GATEWAY_TOKEN
        self.body = json.loads(body if body is not None else settings.CRM_SMS_GATEWAY_BODY)
        self.id_path = id_path if id_path is not None else settings.CRM_SMS_GATEWAY_ID_PATH
        self.timeout = timeout if timeout is not None else settings.CRM_SMS_GATEWAY_TIMEOUT
        if not self.url.startswith(("http://", "https://")):
            raise ValueError("CRM_SMS_GATEWAY_URL must be an http(s) URL")

    def payload(self, message: Outgoing) -> object:
        values = {"to": message.to, "text": message.body, "key": message.key}

        def fill(node: object) -> object:
            if isinstance(node, str):
                return _PLACEHOLDER.sub(lambda m: values[m.group(1)], node)
            if isinstance(node, list):
                return [fill(item) for item in node]
            if isinstance(node, dict):
                return {key: fill(value) for key, value in node.items()}
            return node

        return fill(self.body)

    def send(self, message: Outgoing) -> str:
        headers = {"Content-Type": "application/json", "Accept": "application/json", "Idempotency-Key": message.key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(self.payload(message), ensure_ascii=False).encode()
        # The URL's scheme is checked to be http(s) in __init__.
        request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = response.read(64 * 1024)
        except urllib.error.HTTPError as error:
            detail = error.read(300).decode("utf-8", "replace")
            reason = " ".join(f"HTTP {error.code}: {detail}".split())[:255]
            raise SendFailed(reason, permanent=400 <= error.code < 500 and error.code not in _TRANSIENT_4XX) from None
        except (TimeoutError, urllib.error.URLError, OSError) as error:
            raise SendFailed(f"gateway unreachable: {error}"[:255], permanent=False) from None
        return self.provider_id(answer) or message.key

    def provider_id(self, answer: bytes) -> str:
        """The id at CRM_SMS_GATEWAY_ID_PATH, or "" (the key then stands for it) when the answer has none."""
        try:
            node = json.loads(answer)
            for step in filter(None, self.id_path.split(".")):
                node = node[int(step)] if isinstance(node, list) else node[step]
        except (ValueError, KeyError, IndexError, TypeError):
            logger.warning("SMS gateway answer has no id at %r", self.id_path)
            return ""
        return str(node)[:255] if node not in (None, "") else ""


def sms_key(message_id: int) -> str:
    host = urlsplit(settings.CRM_BASE_URL).hostname or "localhost"
    return f"crm-msg-{message_id}@{host}"


def backend() -> SmsBackend:
    return import_string(settings.CRM_SMS_BACKEND)()


class SmsChannel:
    key = ConsentChannel.SMS.value
    consent_field = "sms_opt_in"
    address_field = "mobile"

    def build(
        self,
        *,
        message_id: int,
        to: str,
        rendered: Rendered,
        template: MessageTemplate | None = None,
        unsubscribe_url: str = "",
        key: str = "",
        language: str = "",
    ) -> Outgoing:
        """A rendered template as the SMS the member gets: its text part and the opt-out instruction in the
        template's language (the member's). The key, stable per message row, is the gateway's idempotency key."""
        language = language or (template.language if template is not None else "") or get_language() or ""
        return Outgoing(
            message_id=message_id,
            key=key or sms_key(message_id),
            to=to,
            subject="",
            body=with_opt_out(rendered.body.strip(), language),
        )

    def send(self, batch: Iterable[Outgoing]) -> Iterator[tuple[Outgoing, str | SendFailed]]:
        sender = backend()
        for outgoing in batch:
            try:
                yield outgoing, sender.send(outgoing)
            except SendFailed as failure:
                if not failure.permanent:
                    # A timeout may come after the gateway took the message, and an outage fails every row
                    # after it: this row is reported unknown, the batch stops and its other rows go back.
                    raise ConnectionError(failure.reason) from None
                yield outgoing, failure

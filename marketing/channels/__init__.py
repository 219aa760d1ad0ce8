"""Channels a message goes out by: a registry of backends, one per ConsentChannel value (e-mail, SMS).

A channel knows which field holds a member's address and which consent it needs, turns a rendered message
into what its provider takes (`build`), and hands a batch to the provider (`send`), yielding each message's
outcome as soon as the provider answers, so the sender records it before handing over the next one.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Outgoing:
    """One message ready for the provider."""

    message_id: int  # Message.pk
    # Unique per Message row and stable across attempts: the SMTP Message-ID, or the gateway's idempotency key.
    key: str
    to: str
    subject: str
    body: str
    html: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class SendFailed(Exception):
    """The provider refused this message (the reason in its words). `permanent`: retrying will not help."""

    def __init__(self, reason: str, *, permanent: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Channel(Protocol):
    key: str  # a ConsentChannel value
    consent_field: str  # Customer field that must be true at send time ("email_opt_in")
    address_field: str  # Customer field holding the address ("email")

    def send(self, batch: Iterable[Outgoing]) -> Iterator[tuple[Outgoing, str | SendFailed]]:
        """Hand each message to the provider; yield it with the provider's id, or with why it failed.

        A connection-level error that stops the batch is raised (the rows not yet yielded stay claimed and
        are found by the lease sweep), never swallowed.
        """
        ...


_channels: dict[str, Channel] = {}


def register(channel: Channel) -> None:
    _channels[channel.key] = channel


def get(key: str) -> Channel:
    return _channels[key]


def registered() -> dict[str, Channel]:
    return dict(_channels)

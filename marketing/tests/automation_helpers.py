"""Shared by the automation tests: switching one on at a given time, running it, reading its rows."""

import datetime
import zoneinfo

import pytest
import time_machine

from marketing.models import Automation, Message
from marketing.services import automations

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def switch_on(kind: str, when: datetime.datetime, **timing: int) -> Automation:
    with time_machine.travel(when, tick=False):
        return automations.automation_update(automation=Automation.objects.get(kind=kind), enabled=True, **timing)


def run(automation: Automation, when: datetime.datetime) -> int:
    with time_machine.travel(when, tick=False):
        return automations.automation_run(automation=automation)


def rows(automation: Automation) -> set[tuple[int, str]]:
    """(customer id, occasion) of the automation's message rows."""
    return set(Message.objects.filter(campaign=automation.campaign).values_list("customer_id", "occasion"))


def _minimal_prepare(*, campaign, customer_ids, occasion) -> int:
    """Until the sending engine is on this branch: its rows, without the control draw or dispatch."""
    had = Message.objects.filter(campaign=campaign, occasion=occasion).count()
    Message.objects.bulk_create(
        [Message(campaign=campaign, customer_id=pk, occasion=occasion) for pk in customer_ids],
        ignore_conflicts=True,
    )
    return Message.objects.filter(campaign=campaign, occasion=occasion).count() - had


@pytest.fixture
def sending(monkeypatch):
    """The real messages_prepare when the sending engine is present; otherwise a minimal stand-in."""
    try:
        from marketing.services.sending import messages_prepare  # noqa: F401
    except ImportError:
        monkeypatch.setattr(automations, "_prepare", _minimal_prepare)

"""Shared by the automation tests: switching one on at a given time, running it, reading its rows."""

import datetime
import zoneinfo

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

"""Interactions' tasks, retried on transient errors by the one policy in crm/celery.py."""

from celery import shared_task

from interactions import services
from interactions.services import followups


@shared_task(ignore_result=True)
def membership_daily_task() -> dict[str, int]:
    """Expire due points and move tiers (scheduled in crm/schedule.py)."""
    return services.membership_maintain()


@shared_task(ignore_result=True)
def reminders_notify_task() -> int:
    """Notify assignees of reminders that fell due (scheduled in crm/schedule.py)."""
    return followups.reminders_notify_due()


@shared_task(ignore_result=True)
def reminder_rules_task() -> dict[str, int]:
    """Turn the active reminder rules into reminders (scheduled in crm/schedule.py)."""
    return followups.reminder_rules_apply()


@shared_task(ignore_result=True)
def purchase_stats_reconcile_task() -> dict[str, int]:
    """Check every member's purchase facts against the history and repair drift (scheduled in crm/schedule.py)."""
    check = services.purchase_stats_reconcile()
    return {"checked": check.checked, "repaired": check.repaired}


@shared_task(ignore_result=True)
def behaviour_partitions_task() -> dict[str, int]:
    """Make the coming months' behaviour partitions and drop expired ones (scheduled in crm/schedule.py)."""
    return services.behaviour_partitions_maintain()


@shared_task(ignore_result=True)
def purchase_windows_roll_task() -> int:
    """Move the members' 30/90/365-day purchase columns on to today (scheduled in crm/schedule.py)."""
    return services.purchase_windows_roll()

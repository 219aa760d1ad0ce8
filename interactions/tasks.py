from celery import shared_task

from interactions import services


@shared_task(ignore_result=True)
def membership_daily_task() -> dict[str, int]:
    """Expire due points and move tiers (scheduled in crm/schedule.py)."""
    return services.membership_maintain()

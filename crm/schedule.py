"""Every periodic job, in one place. crm/celery.py hands this to beat.

The beat scheduler is django_celery_beat's DatabaseScheduler: it copies these
entries into its tables at start, where admins can see and pause them.
Times are in CELERY_TIMEZONE. An expiry drops a run that waited past the
next one, so a stopped worker does not come back to a pile of stale runs:
`expires` is Celery's option, `expire_seconds` the one django_celery_beat
copies into its table (it ignores `expires` in this dict), so each entry has both.
"""

from celery.schedules import crontab

MINUTE = 60
HOUR = 60 * MINUTE

BEAT_SCHEDULE = {
    # Points that reach their expiry date lapse, and tiers move with the rolling
    # spend window. Daily is what the rules are stated in; 02:30 is after the
    # shops close and before the next day's imports. Idempotent, so a re-run is harmless.
    "membership-daily": {
        "task": "interactions.tasks.membership_daily_task",
        "schedule": crontab(hour=2, minute=30),
        "options": {"expires": 6 * HOUR, "expire_seconds": 6 * HOUR},
    },
    # Staff hear about a follow-up within minutes of it falling due. Each reminder is
    # claimed before it is notified, so overlapping or repeated runs notify it once;
    # a run that waited past the next one is dropped, the next picks its reminders up.
    "reminders-notify": {
        "task": "interactions.tasks.reminders_notify_task",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * MINUTE, "expire_seconds": 4 * MINUTE},
    },
    # Reminder rules ("no contact for 90 days", "unhappy customer") are stated in days;
    # 06:00 puts the day's reminders on "My day" before the shops open. Re-runs create none.
    "reminder-rules-daily": {
        "task": "interactions.tasks.reminder_rules_task",
        "schedule": crontab(hour=6, minute=0),
        "options": {"expires": 6 * HOUR, "expire_seconds": 6 * HOUR},
    },
}

"""Every periodic job, in one place. crm/celery.py hands this to beat.

The beat scheduler is django_celery_beat's DatabaseScheduler: it copies these
entries into its tables at start, where admins can see and pause them.
Times are in CELERY_TIMEZONE. An expiry drops a run that waited past the
next one, so a stopped worker does not come back to a pile of stale runs:
`expires` is Celery's option, `expire_seconds` the one django_celery_beat
copies into its table (it ignores `expires` in this dict), so each entry has both.

Retries, for these and every other task (crm/celery.py, CrmTask, the app's task class): only
TRANSIENT_ERRORS are retried (database OperationalError and InterfaceError, Redis connection and
timeout errors, broker errors), 5 times at most, after about 10, 20, 40, 80 and 160 s with full
jitter; anything else, a ValidationError included, fails at once and is logged. Every task here may
run twice (a retry, a redelivery after a lost worker: tasks are acknowledged late), so each claims
its work first. A background job retried this way is put back in its queue and claimed again
(crm/jobs.py); a job whose worker died is taken up by the sweeper below.
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
    # Segments read the per-member purchase facts that the purchase services keep; once a night every row
    # is checked against the purchase history and repaired if a write ever missed it (the run records how many).
    # 03:30 is after the membership job and before the shops open. Chunked and idempotent, so a re-run is harmless.
    "purchase-stats-reconcile": {
        "task": "interactions.tasks.purchase_stats_reconcile_task",
        "schedule": crontab(hour=3, minute=30),
        "options": {"expires": 6 * HOUR, "expire_seconds": 6 * HOUR},
    },
    # Retention (customers.services.retention): members with no purchase, contact, shop visit or consent given for
    # RETENTION_INACTIVE_YEARS are erased like a request would (off at 0). Daily, since someone crosses the line
    # every day; 02:10, before the membership job and the night's scoring, so neither works on them. A member
    # at a time and an erased one never picked again, so a killed or repeated run erases nobody twice.
    "retention-members": {
        "task": "customers.tasks.retention_members_task",
        "schedule": crontab(hour=2, minute=10),
        "options": {"expires": 6 * HOUR, "expire_seconds": 6 * HOUR},
    },
    # The audit trail past RETENTION_AUDIT_YEARS moves into checked archive files (crm.audit.audit_archive_old),
    # never dropped: the live table and its indexes stay the size of the period searched most. Daily at 02:20,
    # after the retention job's erasures are recorded; a file a transaction, under a lock, so a killed run
    # leaves whole files and an overlapping one waits its turn.
    "audit-archive": {
        "task": "crm.tasks.audit_archive_task",
        "schedule": crontab(hour=2, minute=20),
        "options": {"expires": 6 * HOUR, "expire_seconds": 6 * HOUR},
    },
    # Shop behaviour lives in monthly partitions: the next months' are made ahead (so a batch seldom waits
    # to make one) and those past CRM_BEHAVIOUR_RETENTION_MONTHS dropped whole. Daily, though a month needs
    # it once, so a missed night costs nothing; 01:30 is before the other nightly jobs. Idempotent.
    "behaviour-partitions": {
        "task": "interactions.tasks.behaviour_partitions_task",
        "schedule": crontab(hour=1, minute=30),
        "options": {"expires": 6 * HOUR, "expire_seconds": 6 * HOUR},
    },
    # Segment rules read "orders / spend in the last 30, 90 or 365 days" from per-member columns only while they
    # are counted up to today, and fall back to scanning the period's purchases otherwise: so the columns are moved
    # on just after midnight, when the purchases of one day per period leave them. A run recounts only those
    # members, in chunks; a killed or repeated run recounts the same ones. Dropped once the next day's is due.
    "purchase-windows-roll": {
        "task": "interactions.tasks.purchase_windows_roll_task",
        "schedule": crontab(hour=0, minute=5),
        "options": {"expires": 20 * HOUR, "expire_seconds": 20 * HOUR},
    },
    # Automations (marketing.services.automations) hand each member an occasion's message once: the key
    # (birthday:2027, survey:purchase:812) is unique, so overlapping or repeated runs send nothing twice, and
    # each run looks back over what a missed one would have found. Welcome, tier upgrade and the survey
    # follow events, so hourly (a survey's delay is in hours); at :20, clear of the :00 and :30 jobs.
    "automations-hourly": {
        "task": "marketing.tasks.automations_run_task",
        "schedule": crontab(minute=20),
        "args": (["welcome", "tier_upgrade", "survey"],),
        "options": {"expires": 50 * MINUTE, "expire_seconds": 50 * MINUTE},
    },
    # Birthdays, lapsing points, win-back and browse abandonment are stated in days: once a day, at 09:10, when
    # a greeting is welcome (SMS quiet hours would hold it anyway) and after the night's membership, purchase
    # facts and tier jobs have settled points, tiers and last purchases.
    "automations-daily": {
        "task": "marketing.tasks.automations_run_task",
        "schedule": crontab(hour=9, minute=10),
        "args": (["birthday", "points_expiry", "win_back", "browse_abandonment"],),
        "options": {"expires": 6 * HOUR, "expire_seconds": 6 * HOUR},
    },
    # A job (import, export) whose worker died stays "running" with no one working on it. Every
    # 5 minutes, a job silent for longer than CRM_JOB_LEASE_SECONDS is queued again, or failed with a
    # message once started CRM_JOB_MAX_ATTEMPTS times (the rule: crm/jobs.py). Each job is claimed by a
    # conditional update, so overlapping runs queue it once; a run that waited past the next is dropped.
    # Scores (RFM, lifetime value, churn, recommendations: analytics/services/scoring.py) for everyone, nightly at
    # 04:00: after the purchase facts' reconcile (03:30) and before the shops open, so the day starts on last
    # night's scores. A night when a run is still under way is skipped.
    "analytics-scoring": {
        "task": "analytics.tasks.scoring_nightly_task",
        "schedule": crontab(hour=4, minute=0),
        "options": {"expires": 6 * HOUR, "expire_seconds": 6 * HOUR},
    },
    # The dashboards read pre-aggregated tables (analytics/services/aggregates.py): once a day the days and months
    # that changed since the last refresh (new and late purchases, refunds, merges) are recomputed, and the
    # category and member distributions whole. 04:45 is after the 04:00 scoring, whose segments and churn risk
    # the distributions count, and before the shops open. A refresh holds a lock, so an overlapping one is
    # skipped; a killed one is redone by the next (each block replaces its rows).
    "analytics-aggregates": {
        "task": "analytics.tasks.aggregates_refresh_task",
        "schedule": crontab(hour=4, minute=45),
        "options": {"expires": 6 * HOUR, "expire_seconds": 6 * HOUR},
    },
    # A scoring fit or chunk whose worker died (its lease, CRM_SCORING_LEASE_SECONDS, lapsed) is queued again, a
    # run whose closing was lost is closed. Every 5 minutes, as the jobs' sweep; each part is claimed, so overlaps
    # do nothing twice.
    "analytics-scoring-sweep": {
        "task": "analytics.tasks.scoring_sweep_task",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * MINUTE, "expire_seconds": 4 * MINUTE},
    },
    # Tasks that could not be queued while Redis was away wait in the outbox (crm/queue.py). Beat itself needs
    # Redis to send this, so it runs once Redis is back: within 5 minutes (as the sweeps below, which take up
    # work the same way) each kept task is handed over, oldest first; rows are locked while handed over, so
    # overlapping runs hand none over twice. A run that waited past the next one is dropped.
    "outbox-drain": {
        "task": "crm.tasks.outbox_drain_task",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * MINUTE, "expire_seconds": 4 * MINUTE},
    },
    "jobs-sweep": {
        "task": "crm.tasks.jobs_sweep_task",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * MINUTE, "expire_seconds": 4 * MINUTE},
    },
    # Campaign sending (marketing/services/sending). Every 5 minutes: rows still "sending" after their lease
    # (CRM_SEND_LEASE_SECONDS) are settled (handed over: "unknown", shown and never sent again blindly; the rest
    # queued again); a campaign whose batch tasks were lost (a killed worker) or whose SMS waited out the quiet
    # hours is dispatched again from its rows; one with nothing left is "sent". Each step is a conditional
    # update, so overlapping runs are harmless; a run that waited past the next one is dropped.
    "campaigns-sweep": {
        "task": "marketing.tasks.campaigns_sweep_task",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * MINUTE, "expire_seconds": 4 * MINUTE},
    },
    # Scheduled campaigns start within 5 minutes of their send time. A start locks its campaign and checks its
    # status, so two runs start it once.
    "campaigns-start-due": {
        "task": "marketing.tasks.campaigns_start_due_task",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * MINUTE, "expire_seconds": 4 * MINUTE},
    },
    # Segment reports (marketing.services.reports) draw each segment's members, revenue share and RFM mix
    # from one snapshot per segment and day. 05:15: after the purchase facts' reconcile (03:30) and the night's
    # scoring (04:00), so revenue and RFM mix are the night's, and before the shops open. A re-run the same day
    # replaces that day's rows; a run still waiting when the next day starts is dropped.
    "segment-snapshots-daily": {
        "task": "marketing.tasks.segment_snapshots_task",
        "schedule": crontab(hour=5, minute=15),
        "options": {"expires": 6 * HOUR, "expire_seconds": 6 * HOUR},
    },
    # A/B tests end after their campaign's winner_after_hours (whole hours): every 5 minutes the due ones get
    # their winner (or "no difference") and the rest of the campaign is queued with it. The campaign row is
    # locked and a decision kept, so an overlapping run decides nothing twice; a late run is dropped.
    "campaign-ab-winners": {
        "task": "marketing.tasks.campaign_winners_task",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * MINUTE, "expire_seconds": 4 * MINUTE},
    },
    # A campaign's results page reads a snapshot of its figures (counting a million recipients takes seconds):
    # every 5 minutes each campaign whose figures can still change is counted again. A snapshot is replaced
    # whole, so an overlapping or repeated run only counts twice; a late run is dropped.
    "campaign-results-refresh": {
        "task": "marketing.tasks.results_refresh_task",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * MINUTE, "expire_seconds": 4 * MINUTE},
    },
}

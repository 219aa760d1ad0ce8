"""Roles are Django groups. This module is the one place their permissions are set.

`sync_roles` runs after every migrate (and test-database flush), so the groups
always match this table; re-running it changes nothing.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db.models import TextChoices


class Role(TextChoices):
    SERVICE = "Service"
    SALES = "Sales"
    MARKETING = "Marketing"
    MANAGER = "Manager"
    ADMIN = "Admin"


# The roles whose staff keep a book of customers, so the owner of a customer is one of them.
OWNER_ROLES = [Role.SERVICE, Role.SALES, Role.MANAGER]

CUSTOMER_READ = ["customers.view_customer", "customers.view_tag", "customers.view_tier"]
CUSTOMER_WRITE = ["customers.add_customer", "customers.change_customer"]
# Purchase history, shop behaviour, points ledger and tier changes: read by everyone who reads customers.
MEMBERSHIP_READ = [
    "interactions.view_transaction",
    "interactions.view_behaviourevent",
    "interactions.view_product",
    "customers.view_pointsentry",
    "customers.view_tierchange",
]
RECORD_PURCHASE = ["interactions.add_transaction"]
# Log calls, chats and visits, see them on the timeline, and work one's own reminders ("My day").
LOG_INTERACTIONS = ["interactions.view_interaction", "interactions.add_interaction", "interactions.view_reminder"]
INTERACTION_REPORTS = ["interactions.view_interaction_reports"]
# Work the queue of social mentions no customer matched (interactions): assign each to a customer.
SOCIAL_QUEUE = ["interactions.view_unmatchedmention", "interactions.change_unmatchedmention"]

# Build segments from rules, freeze and upload lists, export their members (masked as the role says).
SEGMENTS = [
    "marketing.view_segment",
    "marketing.add_segment",
    "marketing.change_segment",
    "marketing.delete_segment",
    "marketing.export_segment",
]

# A member's coupons on their page, for everyone who serves members.
COUPONS_READ = ["marketing.view_coupon"]
# The campaign messages a member was sent, on their page's timeline ("why did I get this SMS?").
MESSAGES_READ = ["marketing.view_message"]
# Exchange a member's points for an item of the rewards catalogue, at the desk.
REWARDS_EXCHANGE = ["marketing.view_rewarditem", "marketing.add_rewardexchange"]
# Coupon offers, and issuing them to a member or a segment.
OFFERS = [
    "marketing.view_couponoffer",
    "marketing.add_couponoffer",
    "marketing.change_couponoffer",
    "marketing.add_coupon",
]

# Read campaigns: their pages, and a campaign's or automation's results and CSV downloads (marketing/views).
CAMPAIGN_RESULTS = ["marketing.view_campaign"]
# Build campaigns, preview and test them, and send them (send_campaign: start, schedule, pause, resume, cancel).
CAMPAIGNS = ["marketing.add_campaign", "marketing.change_campaign", "marketing.send_campaign"]
# Automations (birthday, welcome, ...): marketers switch them and set their timing; managers see them.
AUTOMATIONS_READ = ["marketing.view_automation"]
AUTOMATIONS_EDIT = AUTOMATIONS_READ + ["marketing.change_automation"]
# A member's scores (RFM segment, churn risk, predicted value, recommendations) on their page, for everyone who
# serves members; the scoring runs' pages (fits, checks, movement) for those who plan with them.
SCORES_READ = ["analytics.view_memberscore"]
SCORING_RUNS = ["analytics.view_scoringrun"]
# Start a scoring run by hand (it also runs nightly).
SCORING_START = ["analytics.add_scoringrun"]
# The marketing reports (per segment, per category) and the campaign leaderboard, read from the daily tables.
MARKETING_REPORTS = ["analytics.view_marketing_reports"]
# The business dashboard (KPIs, distributions, cohorts, forecast, geography), and refreshing its figures by hand.
DASHBOARD = ["analytics.view_dashboard", "analytics.refresh_aggregates"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    # Front desk: find anyone, fix their details, log contact, take purchases and refunds.
    Role.SERVICE: CUSTOMER_READ
    + CUSTOMER_WRITE
    + MEMBERSHIP_READ
    + RECORD_PURCHASE
    + LOG_INTERACTIONS
    + INTERACTION_REPORTS
    + SOCIAL_QUEUE
    + COUPONS_READ
    + MESSAGES_READ
    + REWARDS_EXCHANGE
    + SCORES_READ
    + ["customers.view_all_customers", "customers.view_contact_details", "interactions.refund_transaction"],
    # Own book of customers only (no view_all_customers); records purchases, refunds go to the desk.
    Role.SALES: CUSTOMER_READ
    + CUSTOMER_WRITE
    + MEMBERSHIP_READ
    + RECORD_PURCHASE
    + LOG_INTERACTIONS
    + COUPONS_READ
    + MESSAGES_READ
    + REWARDS_EXCHANGE
    + SCORES_READ
    + ["customers.view_contact_details"],
    # Segments and campaigns across everyone, but phone and e-mail stay masked.
    Role.MARKETING: CUSTOMER_READ
    + MEMBERSHIP_READ
    + SEGMENTS
    + COUPONS_READ
    + MESSAGES_READ
    + OFFERS
    + CAMPAIGN_RESULTS
    + CAMPAIGNS
    + AUTOMATIONS_EDIT
    + SCORES_READ
    + SCORING_RUNS
    + MARKETING_REPORTS
    + ["customers.view_all_customers"],
    Role.MANAGER: CUSTOMER_READ
    + CUSTOMER_WRITE
    + MEMBERSHIP_READ
    + RECORD_PURCHASE
    + LOG_INTERACTIONS
    + INTERACTION_REPORTS
    + SOCIAL_QUEUE
    + SEGMENTS
    + COUPONS_READ
    + MESSAGES_READ
    + OFFERS
    + REWARDS_EXCHANGE
    + CAMPAIGN_RESULTS
    + AUTOMATIONS_READ
    + SCORES_READ
    + SCORING_RUNS
    + SCORING_START
    + MARKETING_REPORTS
    + DASHBOARD
    + [
        "customers.view_all_customers",
        "customers.view_contact_details",
        "customers.export_customers",
        "customers.merge_customers",
        # Data-subject requests: everything held on a customer, and erasure (customers/views/privacy.py).
        "customers.export_personal_data",
        "customers.erase_customer",
        "customers.reassign_owner",  # bulk: give the selected customers another owner
        "customers.add_tag",
        "customers.change_tag",
        "customers.adjust_points",
        "interactions.refund_transaction",
        "crm.rerun_job",  # a job someone else started (an export, an import) may be run again
        "crm.view_auditevent",  # the audit log: who viewed, exported, changed, erased; sign-ins; roles; tokens
    ],
}

ADMIN_APPS = {"auth", "customers", "interactions", "marketing", "analytics", "django_celery_beat", "crm", "api"}


def sync_roles(*, using: str = "default", apps=global_apps, **kwargs) -> None:
    from django.contrib.auth.models import Group, Permission
    from django.db import router

    if not router.allow_migrate_model(using, Group):
        return  # a read replica: it gets the primary's groups by streaming
    # Permissions of apps migrated after this one do not exist yet when our
    # post_migrate handler fires; creating them here is idempotent.
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)

    for role, perm_names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        wanted = []
        for name in perm_names:
            app_label, codename = name.split(".")
            wanted.append(Permission.objects.using(using).get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)

    admin, _ = Group.objects.using(using).get_or_create(name=Role.ADMIN)
    admin.permissions.set(Permission.objects.using(using).filter(content_type__app_label__in=ADMIN_APPS))

"""Marketing's panels on the home page (crm/home.py): its segments, its campaigns under way, its automations.

Each panel runs a fixed number of queries whatever the number of segments, campaigns or messages. A manager
reads these pages too, but opens on the business (hidden_with the dashboard).
"""

import datetime

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.home import HomePanel, register
from marketing import selectors

MANAGERS = "analytics.view_dashboard"
SEGMENTS_SHOWN = 8
RUNNING_SHOWN = 10
FINISHED_DAYS = 14
FINISHED_SHOWN = 5
SENT_DAYS = 7


def segments(request: HttpRequest) -> dict:
    return {"segments": selectors.segments_recent()[:SEGMENTS_SHOWN], "total": selectors.segments_recent().count()}


def campaigns(request: HttpRequest) -> dict:
    now = timezone.now()
    running = list(selectors.campaigns_running()[:RUNNING_SHOWN])
    progress = selectors.campaigns_progress([campaign.pk for campaign in running])
    finished = selectors.campaigns_finished_since(now - datetime.timedelta(days=FINISHED_DAYS))
    return {
        "running": [(campaign, progress.get(campaign.pk)) for campaign in running],
        "finished": finished[:FINISHED_SHOWN],
        "finished_days": FINISHED_DAYS,
    }


def automations(request: HttpRequest) -> dict:
    since = timezone.now() - datetime.timedelta(days=SENT_DAYS)
    return {"automations": selectors.automations_on_with_sent_since(since), "days": SENT_DAYS}


def register_panels() -> None:
    register(
        HomePanel(
            key="segments",
            title=_("Segments"),
            permission="marketing.view_segment",
            template="marketing/includes/home_segments.html",
            context=segments,
            order=50,
            hidden_with=MANAGERS,
        )
    )
    register(
        HomePanel(
            key="campaigns",
            title=_("Campaigns under way"),
            permission="marketing.view_campaign",
            template="marketing/includes/home_campaigns.html",
            context=campaigns,
            order=60,
            hidden_with=MANAGERS,
        )
    )
    register(
        HomePanel(
            key="automations",
            title=_("Automations switched on"),
            permission="marketing.view_automation",
            template="marketing/includes/home_automations.html",
            context=automations,
            order=70,
            hidden_with=MANAGERS,
        )
    )

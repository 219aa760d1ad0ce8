"""The desk's and the sales floor's panels on the home page (crm/home.py): the signed-in user's day.

Each panel runs a fixed number of queries (its list, cut to a few rows), whatever the size of the book.
A manager has these permissions too, but opens on the business (hidden_with the dashboard).
"""

import datetime

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.home import HomePanel, register
from customers.selectors import birthdays_between, customers_visible_to
from interactions import selectors
from interactions.forms.followups import SNOOZE_CHOICES

MANAGERS = "analytics.view_dashboard"
RECENT_DAYS = 7
BIRTHDAY_DAYS = 7  # today and the six days after
FOLLOW_UPS_SHOWN = 10
RECENT_SHOWN = 10
BIRTHDAYS_SHOWN = 20


def _since(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def follow_ups(request: HttpRequest) -> dict:
    # One more than shown, so the panel knows whether My day holds more without counting them all.
    due = list(selectors.reminders_due_today(user=request.user)[: FOLLOW_UPS_SHOWN + 1])
    return {
        "reminders": due[:FOLLOW_UPS_SHOWN],
        "more": len(due) > FOLLOW_UPS_SHOWN,
        "now": timezone.now(),
        "snooze_choices": SNOOZE_CHOICES,
    }


def recent_contacts(request: HttpRequest) -> dict:
    logged = selectors.interactions_logged_by(user=request.user, since=_since(RECENT_DAYS))
    return {"interactions": logged[:RECENT_SHOWN], "days": RECENT_DAYS}


def recent_purchases(request: HttpRequest) -> dict:
    purchases = selectors.purchases_of_members(user=request.user, since=_since(RECENT_DAYS))
    return {
        "purchases": purchases[:RECENT_SHOWN],
        "days": RECENT_DAYS,
        "recorded_by_me": request.user.has_perm("customers.view_all_customers"),
    }


def coming_birthdays(request: HttpRequest) -> dict:
    """The user's members (everyone, for a user who sees every customer) whose birthday falls this week."""
    today = timezone.localdate()
    last = today + datetime.timedelta(days=BIRTHDAY_DAYS - 1)
    members = birthdays_between(customers_visible_to(request.user).select_related("tier"), first=today, last=last)
    return {"members": members[:BIRTHDAYS_SHOWN], "today": today, "last": last}


def register_panels() -> None:
    register(
        HomePanel(
            key="follow-ups",
            title=_("Due follow-ups"),
            permission="interactions.view_reminder",
            template="interactions/includes/home_follow_ups.html",
            context=follow_ups,
            order=10,
            hidden_with=MANAGERS,
        )
    )
    register(
        HomePanel(
            key="recent-contacts",
            title=_("Contacts you logged"),
            permission="interactions.view_interaction",
            template="interactions/includes/home_recent_contacts.html",
            context=recent_contacts,
            order=20,
            hidden_with=MANAGERS,
        )
    )
    # Staff who take purchases: a marketer reads purchase histories but records none and owns no members.
    register(
        HomePanel(
            key="recent-purchases",
            title=_("Recent purchases"),
            permission="interactions.add_transaction",
            template="interactions/includes/home_recent_purchases.html",
            context=recent_purchases,
            order=30,
            hidden_with=MANAGERS,
        )
    )
    # Staff who contact members one by one (a birthday call or visit); marketing greets them by automation.
    register(
        HomePanel(
            key="birthdays",
            title=_("Birthdays this week"),
            permission="interactions.add_interaction",
            template="interactions/includes/home_birthdays.html",
            context=coming_birthdays,
            order=40,
            hidden_with=MANAGERS,
        )
    )

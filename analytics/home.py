"""The manager's home panel (crm/home.py): the business at a glance, the last 30 days against the 30 before and
a year earlier, with the full dashboard a click away."""

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from analytics.charts.kpis import tiles
from analytics.forms import default_range
from analytics.models import AggregateState
from crm import home


def _business(request: HttpRequest) -> dict:
    start, end = default_range()
    return {
        "tiles": tiles(start, end),
        "start": start,
        "end": end,
        "state": AggregateState.objects.filter(pk=1).first(),
    }


def register_panel() -> None:
    home.register(
        home.HomePanel(
            key="business",
            title=_("The business"),
            permission="analytics.view_dashboard",
            template="analytics/includes/home_business.html",
            context=_business,
            order=0,
            width="col-12",
        )
    )

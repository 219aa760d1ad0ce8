"""What shop behaviour adds to the customer's page: a timeline entry per day, not per view (registered from
InteractionsConfig.ready()). A day's entry sums it up ("Viewed 7 products and browsed 2 categories, added 1 to cart"):
one grouped query per timeline page, however many events the days hold."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from customers.models import Customer
from customers.sections import TimelineItem, TimelineWindow, register_timeline
from interactions import selectors


def day_summary(day: dict) -> str:
    """What the member did that day, in a line."""
    products, categories = day["products"], day["categories"]
    counted_categories = ngettext("%(n)s category", "%(n)s categories", categories) % {"n": categories}
    parts = []
    if products:
        counted = ngettext("%(n)s product", "%(n)s products", products) % {"n": products}
        if categories:
            parts.append(
                # The categories include those browsed without a product, so not "products in categories".
                _("viewed %(products)s and browsed %(categories)s")
                % {"products": counted, "categories": counted_categories}
            )
        else:
            parts.append(_("viewed %(products)s") % {"products": counted})
    elif categories:
        parts.append(_("browsed %(categories)s") % {"categories": counted_categories})
    if n := day["favourites"]:
        parts.append(ngettext("favourited %(n)s product", "favourited %(n)s products", n) % {"n": n})
    if n := day["carted"]:
        parts.append(ngettext("added %(n)s to cart", "added %(n)s to cart", n) % {"n": n})
    return capfirst(pgettext("list separator", ", ").join(parts))


def _window(days: QuerySet, window: TimelineWindow) -> QuerySet:
    """TimelineWindow.apply for rows grouped by day: ordered and cut on the day's last event, which no other
    day shares, so the time alone places a day (the filter becomes the grouped query's HAVING)."""
    cursor = window.cursor
    newer = cursor is not None and cursor.newer
    days = days.order_by("at" if newer else "-at")
    if cursor is not None:
        beyond, upto = ("gt", "gte") if newer else ("lt", "lte")
        same_time_comes_past = cursor.kind != window.kind and (window.kind > cursor.kind) != newer
        days = days.filter(**{f"at__{upto if same_time_comes_past else beyond}": cursor.at})
    return days[: window.limit]


def behaviour_timeline(user: AbstractBaseUser, customer: Customer, window: TimelineWindow) -> list[TimelineItem]:
    if not user.has_perm("interactions.view_behaviourevent"):
        return []
    return [
        TimelineItem(
            at=day["at"],
            icon="eye",
            title=day_summary(day),
            detail=ngettext("%(n)s event in the shop", "%(n)s events in the shop", day["events"])
            % {"n": day["events"]},
            kind=window.kind,
            pk=day["day"].toordinal(),  # a day has one entry: its date tells them apart
        )
        for day in _window(selectors.behaviour_days(customer=customer), window)
    ]


def register() -> None:
    register_timeline("behaviour", behaviour_timeline, label=gettext_lazy("Shop behaviour"))

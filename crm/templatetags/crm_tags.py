from django import template
from django.urls import reverse
from django.utils.html import format_html

from crm.lib import crm_number as crm_number_lib
from crm.lib.masking import mask_email, mask_phone
from crm.lib.money import format_money
from crm.lib.phone import display_phone

register = template.Library()


@register.filter
def crm_number(value) -> str:
    return crm_number_lib.format_number(value) if value else ""


@register.simple_tag(takes_context=True)
def phone(context, value: str) -> str:
    """A phone that is no customer's field yet (a social mention's), as the viewer may see it: formatted, or masked
    without the permission. A customer's fields go through customers' `personal` tags (customers/personal.py)."""
    if not value:
        return ""
    if context["perms"]["customers"]["view_contact_details"]:
        return display_phone(value)
    return mask_phone(value)


@register.simple_tag(takes_context=True)
def email(context, value: str) -> str:
    if not value:
        return ""
    if context["perms"]["customers"]["view_contact_details"]:
        return value
    return mask_email(value)


@register.filter
def money(value, currency: str = "") -> str:
    """Amount with the currency symbol and the active language's grouping: ¥12,345.60."""
    return format_money(value, currency)


@register.simple_tag(takes_context=True)
def page_query(context, param: str, number: int) -> str:
    """The current query string with `param` set to `number` (for one of several pagers on a page)."""
    query = context["request"].GET.copy()
    query[param] = number
    return "?" + query.urlencode()


@register.inclusion_tag("includes/chart.html", takes_context=True)
def chart(context, key: str, height: int = 320, filters: str = "", query: str = ""):
    """A registered chart (crm/charts.py) drawn by static/js/charts.js from its JSON endpoint, with its table a
    click away and its CSV. `filters` names the page's filter form whose fields the chart's requests carry;
    `query` is a fixed query string of its own (e.g. "segment=3")."""
    from crm import charts

    found = charts.get(key)
    if found is None:  # the app that contributes it is not installed: the page goes without
        return {"chart": None}
    return {
        "chart": found,
        "json_url": reverse("chart_json", args=[key]),
        "csv_url": reverse("chart_csv", args=[key]),
        "height": height,
        "filters": filters,
        "query": query,
    }


@register.filter
def figure(value, kind: str = "number") -> str:
    """A dashboard figure as its kind reads: money, a share as a percentage, or a whole number."""
    if value is None:
        return "–"
    if kind == "money":
        return format_money(value)
    if kind == "percent":
        return f"{float(value):.1%}"
    return f"{int(value):,}"


@register.filter
def change(value) -> str:
    """A relative change, signed, with an arrow and its colour (no change known: a dash)."""
    if value is None:
        return format_html('<span class="text-body-secondary">{}</span>', "–")
    arrow, tone = (
        ("▲", "text-success") if value > 0 else ("▼", "text-danger") if value < 0 else ("", "text-body-secondary")
    )
    return format_html('<span class="{}">{} {}</span>', tone, arrow, f"{value:+.1%}")

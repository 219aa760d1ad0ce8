from django import template

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
    """The phone as the viewer may see it: formatted, or masked without the permission."""
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

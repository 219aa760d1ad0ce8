"""Personal fields on pages: `{% personal customer "mobile" %}` (masked, with a Show button for those who may
reveal it) and `{% masked customer "mobile" %}` (masked, for lists). The rule is customers.personal's."""

from django import template
from django.urls import reverse

from customers import personal as rules

register = template.Library()


@register.inclusion_tag("customers/includes/personal_field.html", takes_context=True)
def personal(context, customer, field: str) -> dict:
    value = getattr(customer, field)
    return {
        "field": field,
        "label": rules.MASKED_FIELDS[field].label,
        "masked": rules.masked(customer, field),
        "can_reveal": bool(value) and rules.can_see(context["request"].user),
        "url": reverse("customers:reveal", args=[customer.crm_number]),
    }


@register.simple_tag
def masked(customer, field: str) -> str:
    return rules.masked(customer, field)


@register.filter
def is_personal(field: str) -> bool:
    return field in rules.MASKED_FIELDS

"""Recommendations in campaign templates: analytics registers the variable (crm.member_values), marketing's
template engine whitelists and renders it without importing analytics."""

import pytest

from analytics.tests.conftest import buy, run_scoring
from customers.tests.factories import CustomerFactory
from interactions.tests.factories import ProductFactory, TransactionLineFactory
from marketing import rendering, templating

pytestmark = pytest.mark.django_db

TEXT = "{{ name }}, try {{ recommended_products|first }}{% for p in recommended_products %} [{{ p }}]{% endfor %}"


def test_a_template_may_name_the_recommended_products_and_a_member_gets_theirs():
    templating.check(TEXT)  # whitelisted: no error
    tea, cups = ProductFactory(name="Green tea"), ProductFactory(name="Tea cups")
    for _ in range(3):
        buyer = CustomerFactory()
        TransactionLineFactory(transaction=buy(buyer, days_ago=200), product=tea)
        TransactionLineFactory(transaction=buy(buyer, days_ago=150), product=cups)
    member = CustomerFactory(name="Li")
    TransactionLineFactory(transaction=buy(member, days_ago=3), product=tea)
    run_scoring(params={"parts": ["rfm", "recommendations"]})
    rendered = templating.render(subject="", body=TEXT, html="", context=rendering.context_for(member))
    assert rendered.body == "Li, try Tea cups [Tea cups]"


def test_a_member_without_recommendations_renders_empty_and_the_preview_has_samples():
    member = CustomerFactory(name="Wu")
    rendered = templating.render(subject="", body=TEXT, html="", context=rendering.context_for(member))
    assert rendered.body == "Wu, try "
    assert templating.sample_context()["recommended_products"]

"""Recommendations in campaign templates: analytics registers the variable (crm.member_values), marketing's
template engine whitelists and renders it without importing analytics."""

import pytest

from analytics.tests.conftest import buy, run_scoring
from customers.tests.factories import CustomerFactory
from interactions.tests.factories import ProductFactory, TransactionLineFactory
from marketing import rendering, templating
from marketing.models import MessageTemplate
from marketing.services.sending import campaign_start
from marketing.tests import sending_fixtures
from marketing.tests.sending_fixtures import make_campaign, send_all

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


fast_sending, smtp = sending_fixtures.fast_sending, sending_fixtures.smtp


def test_a_campaign_naming_them_sends_each_member_their_own(fast_sending, smtp):
    tea, cups, cake = (ProductFactory(name=n) for n in ("Green tea", "Tea cups", "Mooncake"))
    for _ in range(3):
        buyer = CustomerFactory()
        TransactionLineFactory(transaction=buy(buyer, days_ago=200), product=tea)
        TransactionLineFactory(transaction=buy(buyer, days_ago=150), product=cups)
        TransactionLineFactory(transaction=buy(buyer, days_ago=100), product=cake)
    tea_buyer, cake_buyer = (CustomerFactory(email_opt_in=True) for _ in range(2))
    TransactionLineFactory(transaction=buy(tea_buyer, days_ago=3), product=tea)
    TransactionLineFactory(transaction=buy(cake_buyer, days_ago=3), product=cake)
    run_scoring(params={"parts": ["rfm", "recommendations"]})
    campaign = make_campaign([tea_buyer, cake_buyer])
    MessageTemplate.objects.filter(variant__campaign=campaign).update(body="Try {{ recommended_products|join:', ' }}")
    campaign_start(campaign=campaign, actor=None)
    send_all(campaign)
    bodies = {m: smtp.to(m.email).get_body(("plain",)).get_content() for m in (tea_buyer, cake_buyer)}
    assert "Try Tea cups, Mooncake" in bodies[tea_buyer]
    assert "Try Green tea, Tea cups" in bodies[cake_buyer] or "Try Tea cups, Green tea" in bodies[cake_buyer]

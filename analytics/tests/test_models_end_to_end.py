"""The lifetime-value, churn and recommendation parts of a run, end to end from Postgres, on generated histories:
churn with a planted signal the recency baseline cannot see, and without any signal; BG/NBD and Gamma-Gamma with
their holdout check; recommendations on a planted co-purchase pattern."""

import datetime
import random
from decimal import Decimal

import pytest

from analytics.models import ChurnSource, MemberRecommendation, MemberScore
from analytics.tests.conftest import AS_OF, run_scoring
from customers.models import Customer
from interactions.models import Interaction, Transaction, TransactionLine
from interactions.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def generate(*, members: int, planted: bool, seed: int = 7) -> None:
    """Everyone bought two or three times long ago. Before each of the two cut-offs the run trains and judges at
    (as_of − 180 and − 90 days), half the members, drawn afresh each time, were contacted in the 90 days before it;
    with a planted signal, 90% of the contacted and 10% of the others buy in the 90 days after, so whether a member
    buys next depends on that contact and not on how long ago they bought. Without a signal everyone buys with
    probability one half."""
    rng = random.Random(seed)
    registered = (AS_OF - 900 * DAY).date()
    people = Customer.objects.bulk_create(
        Customer(name=f"Member {i}", registered_on=registered, email_opt_in=rng.random() < 0.5) for i in range(members)
    )
    purchases, contacts = [], []
    for person in people:
        for _ in range(rng.randint(2, 3)):
            purchases.append((person, AS_OF - rng.uniform(200, 700) * DAY))
        for cutoff in (AS_OF - 180 * DAY, AS_OF - 90 * DAY):
            contacted = rng.random() < 0.5
            if contacted:
                contacts.append((person, cutoff - rng.uniform(1, 80) * DAY))
            buys = rng.random() < ((0.9 if contacted else 0.1) if planted else 0.5)
            if buys:
                purchases.append((person, cutoff + rng.uniform(1, 85) * DAY))
    Transaction.objects.bulk_create(
        Transaction(customer=p, occurred_at=at, amount=Decimal(rng.randint(20, 400))) for p, at in purchases
    )
    Interaction.objects.bulk_create(Interaction(customer=p, occurred_at=at, subject="Call") for p, at in contacts)


def test_churn_with_a_planted_signal_beats_both_baselines_and_scores_members():
    generate(members=800, planted=True)
    run = run_scoring()
    churn = run.metrics["churn"]
    # The planted contact signal allows an AUC of 0.9; the model's lands about 0.74–0.80 depending on the order its
    # rows arrive in (a CI run on two workers gave 0.744), so the floor is 0.7 and the point is the baselines'.
    assert churn["auc"] > 0.7, churn
    assert churn["auc"] > churn["baselines"]["recency"] + 0.1
    assert churn["beats_baseline"] and churn["source"] == ChurnSource.MODEL
    assert {"predicted", "observed", "members"} <= set(churn["calibration"][0])
    scores = MemberScore.objects.exclude(churn_probability=None)
    assert scores.count() == 800
    assert all(0 <= s.churn_probability <= 1 for s in scores)
    assert all(s.churn_source == ChurnSource.MODEL and s.churn_reasons for s in scores[:50])


def test_churn_without_a_signal_is_flagged_and_the_baseline_scores_instead():
    generate(members=800, planted=False)
    run = run_scoring()
    churn = run.metrics["churn"]
    assert not churn["beats_baseline"]
    assert churn["source"] in (ChurnSource.RECENCY, ChurnSource.BGNBD)
    sources = set(MemberScore.objects.exclude(churn_probability=None).values_list("churn_source", flat=True))
    assert sources == {churn["source"]}


def test_lifetime_value_models_are_fitted_checked_and_applied():
    generate(members=600, planted=True, seed=21)
    run = run_scoring()
    clv = run.metrics["clv"]
    assert "bgnbd" in clv, clv  # else the fit failed, and says why
    assert set(clv["bgnbd"]) >= {"r", "alpha", "a", "b", "log_likelihood"}
    assert set(clv["gamma_gamma"]) >= {"p", "q", "gamma"}
    holdout = clv["holdout"]
    assert holdout["days"] == 90 and holdout["actual"] > 0 and abs(holdout["error"]) < 1
    scores = list(MemberScore.objects.exclude(p_alive=None))
    assert len(scores) == 600
    assert all(0 <= s.p_alive <= 1 and s.expected_purchases >= 0 and s.predicted_value >= 0 for s in scores)
    # those expected to buy more are worth more, all else alike
    top = max(scores, key=lambda s: s.expected_purchases)
    bottom = min(scores, key=lambda s: s.expected_purchases)
    assert top.expected_purchases > bottom.expected_purchases


def test_recommendations_follow_a_planted_co_purchase_pattern():
    tea, cups, cake, soap = (ProductFactory(name=n) for n in ("Tea", "Cups", "Cake", "Soap"))
    people = Customer.objects.bulk_create(Customer(name=f"Buyer {i}") for i in range(30))
    lines = []
    for i, person in enumerate(people):
        basket = [tea, cups] if i < 20 else [soap]
        if i % 3 == 0:
            basket.append(cake)
        order = Transaction.objects.create(customer=person, occurred_at=AS_OF - 200 * DAY, amount=Decimal("50"))
        lines += [TransactionLine(transaction=order, product=p, unit_price=1, line_total=1) for p in basket]
    newcomer = Customer.objects.create(name="Newcomer")
    order = Transaction.objects.create(customer=newcomer, occurred_at=AS_OF - 3 * DAY, amount=Decimal("20"))
    lines.append(TransactionLine(transaction=order, product=tea, unit_price=1, line_total=1))
    nobody = Customer.objects.create(name="No history")
    TransactionLine.objects.bulk_create(lines)

    run = run_scoring(params={"parts": ["rfm", "recommendations"]})
    first = MemberRecommendation.objects.filter(customer=newcomer).order_by("rank").first()
    assert (first.product, first.because_of, first.together) == (cups, tea, 20)
    assert not MemberRecommendation.objects.filter(customer=newcomer, product=tea).exists()  # bought recently
    picks = MemberRecommendation.objects.filter(customer=nobody).order_by("rank")
    popular = list(picks.values_list("product", flat=True))
    assert popular[:2] == [tea.pk, cups.pk] or popular[:2] == [cups.pk, tea.pk]
    assert all(r.because_of is None for r in MemberRecommendation.objects.filter(customer=nobody))
    assert run.metrics["recommendations"]["k"] == 5

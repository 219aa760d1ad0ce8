"""Segment rules: random valid trees select exactly what a plain-Python reading of the same tree selects, and
malformed ones get a message naming the condition, never an exception."""

import datetime
import random
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.lib import crm_number
from customers.models import Customer, Gender, Source
from customers.tests.factories import CustomerFactory, TagFactory, TierFactory
from interactions.models import BehaviourKind, Transaction, TransactionLine, TransactionStatus
from interactions.services import purchase_windows_roll, transaction_refund, transactions_bulk_load
from interactions.tests.factories import InteractionFactory, ProductFactory, behaviour_events
from marketing.rules import MAX_CONDITIONS, MAX_DEPTH, RuleError, rule_compile, rule_explain

TODAY = datetime.date(2027, 2, 20)  # a window over 28 February of a year that has no 29th
PROVINCES = ["浙江省", "广东省", "北京市", ""]
CITIES = ["杭州市", "宁波市", "广州市", ""]


@pytest.fixture
def travel():
    with time_machine.travel(datetime.datetime(2027, 2, 20, 10, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def members(db, travel, sales_user, other_sales_user):
    """Forty members spread over every field's values, including the edges (29 February, no birthday)."""
    rng = random.Random(7)
    tiers = [TierFactory(), TierFactory()]
    tags = [TagFactory(), TagFactory(), TagFactory()]
    products = [ProductFactory(), ProductFactory(), ProductFactory()]
    owners = [sales_user, other_sales_user, None]
    birthdays = [None, datetime.date(2000, 2, 29), datetime.date(1997, 2, 20), datetime.date(1997, 2, 21)]
    for i in range(40):
        birthday = birthdays[i] if i < len(birthdays) else TODAY - datetime.timedelta(days=rng.randint(6000, 25000))
        customer = CustomerFactory(
            birthday=birthday,
            tier=rng.choice([*tiers, None]),
            points_balance=rng.choice([0, 10, 250, 500, 501, 9000]),
            province=rng.choice(PROVINCES),
            city=rng.choice(CITIES),
            gender=rng.choice(Gender.values),
            source=rng.choice(Source.values),
            registered_on=TODAY - datetime.timedelta(days=rng.choice([0, 1, 29, 30, 31, 89, 90, 91, 400])),
            owner=rng.choice(owners),
            email_opt_in=rng.random() < 0.5,
            sms_opt_in=rng.random() < 0.5,
        )
        customer.tags.set(rng.sample(tags, rng.randint(0, 2)))
        _history(rng, customer, products)
    purchase_windows_roll()  # the 30/90/365-day columns hold today: rules over those periods read them
    return {
        "tiers": [t.pk for t in tiers],
        "tags": [t.pk for t in tags],
        "owners": [sales_user.pk, other_sales_user.pk],
        "numbers": list(Customer.objects.values_list("crm_number", flat=True)),
        "categories": [p.category_id for p in products],
        "products": [p.pk for p in products],
    }


def _history(rng: random.Random, customer: Customer, products: list) -> None:
    """Purchases (some refunded) and contacts over the last year, through the services that keep the facts."""
    now = timezone.now()
    for _ in range(rng.choice([0, 0, 1, 2, 4])):
        at = now - datetime.timedelta(
            days=rng.choice([0, 1, 20, 29, 31, 45, 89, 91, 150, 200, 400]), hours=rng.randint(0, 30)
        )
        product = rng.choice(products)
        tx = Transaction(
            customer=customer, amount=Decimal(rng.choice(["50.00", "99.50", "300.00", "1200.00"])), occurred_at=at
        )
        line = TransactionLine(product=product, description="x", quantity=1, unit_price=tx.amount, line_total=tx.amount)
        transactions_bulk_load(transactions=[tx], lines=[[line]])
        if rng.random() < 0.2:
            transaction_refund(transaction=tx, amount=None if rng.random() < 0.5 else Decimal("10.00"))
    for _ in range(rng.choice([0, 1, 3])):
        InteractionFactory(
            customer=customer,
            occurred_at=now - datetime.timedelta(days=rng.choice([0, 2, 29, 31, 100]), hours=rng.randint(0, 30)),
            satisfaction=rng.choice([None, 1, 3, 5]),
        )
    events = []
    for _ in range(rng.choice([0, 1, 3, 6])):
        at = now - datetime.timedelta(days=rng.choice([0, 1, 6, 7, 8, 29, 31]), hours=rng.randint(0, 30))
        kind = rng.choice(BehaviourKind.values)
        thing = rng.choice(products)
        events.append((kind, at, thing.category if kind == BehaviourKind.CATEGORY_VIEW else thing))
    if events:
        behaviour_events(customer, *events)


# --- the plain-Python reading of a rule -------------------------------------------------------------------------


ROWS: dict[int, dict] = {}  # every member's row, for facts that rank members against each other


def _row(c: Customer) -> dict:
    return {
        "tier": c.tier_id,
        "points_balance": c.points_balance,
        "province": c.province,
        "city": c.city,
        "gender": c.gender,
        "birthday": c.birthday,
        "registered_on": c.registered_on,
        "source": c.source,
        "tags": {t.pk for t in c.tags.all()},
        "owner": c.owner_id,
        "email_consent": c.email_opt_in,
        "sms_consent": c.sms_opt_in,
        "crm_number": c.crm_number,
        "pk": c.pk,
        "purchases": [
            (
                timezone.localdate(t.occurred_at),
                t.amount - t.refunded_amount,
                t.status != TransactionStatus.REFUNDED,
                {line.product.category_id for line in t.lines.all()},
                t.occurred_at,
            )
            for t in c.transactions.all()
        ],
        "contacts": sorted((i.occurred_at, i.pk, i.satisfaction) for i in c.interactions.all()),
        "behaviour": [
            (timezone.localdate(e.occurred_at), e.kind, {"product": e.product_id, "category": e.category_id})
            for e in c.behaviour_events.all()
        ],
    }


# The shop-behaviour fields: the kinds each counts, and what its values name.
BEHAVIOUR = {
    "viewed_category": ((BehaviourKind.PRODUCT_VIEW, BehaviourKind.CATEGORY_VIEW), "category"),
    "viewed_product": ((BehaviourKind.PRODUCT_VIEW,), "product"),
    "favourited": ((BehaviourKind.FAVOURITE,), "product"),
    "added_to_cart": ((BehaviourKind.CART_ADD,), "product"),
}


def _purchase_fact(field: str, cond: dict, row: dict, today: datetime.date) -> object:
    purchases = row["purchases"]
    days = cond.get("days", 90)
    recent = [p for p in purchases if p[0] >= today - datetime.timedelta(days=days)]
    match field:
        case "lifetime_spend":
            return sum((p[1] for p in purchases), Decimal(0))
        case "orders":
            return sum(1 for p in purchases if p[2])
        case "last_purchase":
            return max((p[0] for p in purchases), default=None)
        case "spend_in_period":
            return sum((p[1] for p in recent), Decimal(0))
        case "orders_in_period":
            return sum(1 for p in recent if p[2])
        case "last_contact":
            return timezone.localdate(row["contacts"][-1][0]) if row["contacts"] else None
        case "last_satisfaction":
            scored = [c for c in row["contacts"] if c[2] is not None]
            return scored[-1][2] if scored else None
    raise AssertionError(field)


def _age(birthday: datetime.date, today: datetime.date) -> int:
    return today.year - birthday.year - ((today.month, today.day) < (birthday.month, birthday.day))


def _birthday_within(birthday: datetime.date, today: datetime.date, days: int) -> bool:
    for offset in range(days + 1):
        day = today + datetime.timedelta(days=offset)
        if (birthday.month, birthday.day) == (day.month, day.day):
            return True
        last_of_february = day.month == 2 and (day + datetime.timedelta(days=1)).month == 3
        if last_of_february and day.day == 28 and (birthday.month, birthday.day) == (2, 29):
            return True
    return False


def _holds(cond: dict, row: dict, today: datetime.date) -> bool:
    field, op, value = cond["field"], cond["operator"], cond.get("value")
    if field == "age":
        actual = None if row["birthday"] is None else _age(row["birthday"], today)
    elif field == "birthday_month":
        actual = None if row["birthday"] is None else row["birthday"].month
    elif field in (
        "lifetime_spend",
        "orders",
        "last_purchase",
        "spend_in_period",
        "orders_in_period",
        "last_contact",
        "last_satisfaction",
    ):
        actual = _purchase_fact(field, cond, row, today)
        if field in ("lifetime_spend", "spend_in_period"):
            value = [Decimal(v) for v in value] if isinstance(value, list) else Decimal(value)
        if field in ("last_purchase", "last_contact") and isinstance(value, str):
            value = datetime.date.fromisoformat(value)
    elif field == "lapsing":
        purchases = row["purchases"]
        if not purchases:
            return not value
        kept = sum(1 for p in purchases if p[2])
        first, last = min(p[4] for p in purchases), max(p[4] for p in purchases)
        allowed = (last - first) * 2 / (kept - 1) if kept >= 2 else datetime.timedelta(days=cond["days"])
        return (last + allowed < timezone.now()) == value
    elif field == "top_spenders":
        since = today - datetime.timedelta(days=cond["days"])
        spend = {}
        for pk, other in ROWS.items():
            window = [p[1] for p in other["purchases"] if p[0] >= since]
            if window:
                spend[pk] = sum(window, Decimal(0))
        mine = spend.get(row["pk"])
        top = mine is not None and sum(1 for s in spend.values() if s >= mine) / len(spend) <= cond["percent"] / 100
        return top == value
    elif field == "bought_category":
        window = today - datetime.timedelta(days=cond["days"])
        n = sum(1 for p in row["purchases"] if p[2] and p[0] >= window and p[3] & set(value))
        return (n >= cond["times"]) == (op == "in")
    elif field in BEHAVIOUR:
        kinds, names = BEHAVIOUR[field]
        window = today - datetime.timedelta(days=cond["days"])
        n = sum(1 for day, kind, ids in row["behaviour"] if kind in kinds and day >= window and ids[names] in value)
        return (n >= cond["times"]) == (op == "in")
    elif field == "stopped_buying":
        d = cond["days"]
        before = any(
            today - datetime.timedelta(days=2 * d) <= p[0] < today - datetime.timedelta(days=d)
            for p in row["purchases"]
        )
        since = any(p[0] >= today - datetime.timedelta(days=d) for p in row["purchases"])
        return (before and not since) == value
    elif field == "crm_number":
        value = [int(str(v).replace("-", "")) for v in value]
        actual = row["crm_number"]
    else:
        actual = row[field]
    empty = actual in (None, "") or actual == set()
    if field == "tags":
        return {
            "in": lambda: bool(actual & set(value)),
            "not_in": lambda: not actual & set(value),
            "is_empty": lambda: empty,
            "is_set": lambda: not empty,
        }[op]()
    if field == "birthday" and op == "in_next_days":
        return actual is not None and _birthday_within(actual, today, value)
    if isinstance(value, str) and field in ("registered_on",):
        value = datetime.date.fromisoformat(value)
    if op == "between" and field in ("registered_on", "last_purchase", "last_contact"):
        value = [datetime.date.fromisoformat(v) for v in value]
    return {
        "eq": lambda: not empty and actual == value,
        "ne": lambda: empty or actual != value,
        "in": lambda: not empty and actual in value,
        "not_in": lambda: empty or actual not in value,
        "lt": lambda: not empty and actual < value,
        "gt": lambda: not empty and actual > value,
        "between": lambda: not empty and value[0] <= actual <= value[1],
        "is_empty": lambda: empty,
        "is_set": lambda: not empty,
        "contains": lambda: value.lower() in actual.lower(),
        "in_last_days": lambda: not empty and today - datetime.timedelta(days=value) <= actual <= today,
        "more_than_days_ago": lambda: not empty and actual < today - datetime.timedelta(days=value),
    }[op]()


def _matches(node: dict, row: dict, today: datetime.date) -> bool:
    if "op" not in node:
        return _holds(node, row, today)
    results = [_matches(child, row, today) for child in node["rules"]]
    return {"and": all(results), "or": any(results), "not": not any(results)}[node["op"]]


# --- random valid rules -------------------------------------------------------------------------------------------


def conditions(data: dict) -> st.SearchStrategy:
    def cond(field, op, value=None):
        out = {"field": field, "operator": op}
        if value is not None:
            out["value"] = value
        return out

    ints = st.integers(min_value=0, max_value=10_000)
    ages = st.integers(min_value=0, max_value=100)
    days = st.integers(min_value=1, max_value=400)
    periods = st.one_of(st.sampled_from([30, 90, 365]), days)  # the kept columns, or counted from the purchases
    date = st.dates(min_value=TODAY - datetime.timedelta(days=500), max_value=TODAY).map(str)
    tiers, tags, owners = (st.sampled_from(data[k]) for k in ("tiers", "tags", "owners"))
    return st.one_of(
        st.sampled_from(["eq", "ne", "lt", "gt"]).flatmap(lambda op: ints.map(lambda v: cond("points_balance", op, v))),
        st.sampled_from(["in", "not_in"]).flatmap(
            lambda op: st.lists(st.sampled_from([0, 10, 250, 500, 501]), min_size=1, max_size=3).map(
                lambda v: cond("points_balance", op, v)
            )
        ),
        st.tuples(ints, ints).map(lambda t: cond("points_balance", "between", sorted(t))),
        st.sampled_from(["eq", "ne", "lt", "gt"]).flatmap(lambda op: ages.map(lambda v: cond("age", op, v))),
        st.tuples(ages, ages).map(lambda t: cond("age", "between", sorted(t))),
        st.sampled_from(["is_empty", "is_set"]).map(lambda op: cond("age", op)),
        st.integers(min_value=1, max_value=366).map(lambda v: cond("birthday", "in_next_days", v)),
        st.sampled_from(["eq", "ne"]).flatmap(
            lambda op: st.integers(min_value=1, max_value=12).map(lambda v: cond("birthday_month", op, v))
        ),
        st.sampled_from(["eq", "ne"]).flatmap(lambda op: tiers.map(lambda v: cond("tier", op, v))),
        st.lists(tiers, min_size=1, max_size=2).map(lambda v: cond("tier", "not_in", v)),
        st.sampled_from(["is_empty", "is_set"]).map(lambda op: cond("tier", op)),
        st.sampled_from(["in", "not_in"]).flatmap(
            lambda op: st.lists(tags, min_size=1, max_size=2).map(lambda v: cond("tags", op, v))
        ),
        st.sampled_from(["is_empty", "is_set"]).map(lambda op: cond("tags", op)),
        st.sampled_from(["eq", "ne"]).flatmap(
            lambda op: st.sampled_from([p for p in PROVINCES if p]).map(lambda v: cond("province", op, v))
        ),
        st.sampled_from(["杭州", "州市", "宁"]).map(lambda v: cond("city", "contains", v)),
        st.sampled_from(["is_empty", "is_set"]).map(lambda op: cond("city", op)),
        st.sampled_from(Gender.values).map(lambda v: cond("gender", "eq", v)),
        st.lists(st.sampled_from(Source.values), min_size=1, max_size=3).map(lambda v: cond("source", "in", v)),
        st.sampled_from(["in_last_days", "more_than_days_ago"]).flatmap(
            lambda op: days.map(lambda v: cond("registered_on", op, v))
        ),
        st.sampled_from(["eq", "lt", "gt"]).flatmap(lambda op: date.map(lambda v: cond("registered_on", op, v))),
        st.sampled_from(["eq", "ne"]).flatmap(lambda op: owners.map(lambda v: cond("owner", op, v))),
        st.sampled_from(["is_empty", "is_set"]).map(lambda op: cond("owner", op)),
        st.sampled_from(["email_consent", "sms_consent"]).flatmap(
            lambda f: st.booleans().map(lambda v: cond(f, "eq", v))
        ),
        st.sampled_from(["lt", "gt"]).flatmap(
            lambda op: st.sampled_from(["0", "99.50", "300", "1500.00"]).map(lambda v: cond("lifetime_spend", op, v))
        ),
        st.sampled_from(["eq", "ne", "lt", "gt"]).flatmap(
            lambda op: st.integers(0, 4).map(lambda v: cond("orders", op, v))
        ),
        st.sampled_from(["in_last_days", "more_than_days_ago"]).flatmap(
            lambda op: days.map(lambda v: cond("last_purchase", op, v))
        ),
        st.sampled_from(["is_empty", "is_set"]).map(lambda op: cond("last_purchase", op)),
        st.tuples(date, date).map(lambda t: cond("last_purchase", "between", sorted(t))),
        st.tuples(st.sampled_from(["lt", "gt"]), st.sampled_from(["0", "50", "299.99", "1000"]), periods).map(
            lambda t: {**cond("spend_in_period", t[0], t[1]), "days": t[2]}
        ),
        st.tuples(st.sampled_from(["eq", "ne", "gt"]), st.integers(0, 3), periods).map(
            lambda t: {**cond("orders_in_period", t[0], t[1]), "days": t[2]}
        ),
        st.tuples(
            st.sampled_from(["in", "not_in"]),
            st.lists(st.sampled_from(data["categories"]), min_size=1, max_size=2),
            days,
            st.integers(1, 3),
        ).map(lambda t: {**cond("bought_category", t[0], t[1]), "days": t[2], "times": t[3]}),
        st.tuples(st.booleans(), st.integers(10, 200)).map(
            lambda t: {**cond("stopped_buying", "eq", t[0]), "days": t[1]}
        ),
        st.tuples(
            st.sampled_from(sorted(BEHAVIOUR)),
            st.sampled_from(["in", "not_in"]),
            st.integers(1, 35),
            st.integers(1, 3),
        ).flatmap(
            lambda t: st.lists(
                st.sampled_from(data["categories" if t[0] == "viewed_category" else "products"]), min_size=1, max_size=2
            ).map(lambda v: {**cond(t[0], t[1], v), "days": t[2], "times": t[3]})
        ),
        st.sampled_from(["in_last_days", "more_than_days_ago"]).flatmap(
            lambda op: days.map(lambda v: cond("last_contact", op, v))
        ),
        st.tuples(st.booleans(), st.integers(10, 200)).map(lambda t: {**cond("lapsing", "eq", t[0]), "days": t[1]}),
        st.tuples(st.booleans(), st.integers(1, 100), days).map(
            lambda t: {**cond("top_spenders", "eq", t[0]), "percent": t[1], "days": t[2]}
        ),
        st.sampled_from(["is_empty", "is_set"]).map(lambda op: cond("last_contact", op)),
        st.sampled_from(["eq", "ne", "lt", "gt"]).flatmap(
            lambda op: st.integers(1, 5).map(lambda v: cond("last_satisfaction", op, v))
        ),
        st.lists(st.sampled_from(data["numbers"]), min_size=1, max_size=5).map(
            lambda v: cond("crm_number", "in", [crm_number.format_number(n) for n in v])
        ),
    )


def trees(data: dict) -> st.SearchStrategy:
    leaves = conditions(data)
    return st.recursive(
        leaves,
        lambda children: st.builds(
            lambda op, rules: {"op": op, "rules": rules},
            st.sampled_from(["and", "or", "not"]),
            st.lists(children, min_size=1, max_size=3),
        ),
        max_leaves=6,
    ).map(lambda node: node if "op" in node else {"op": "and", "rules": [node]})


@pytest.mark.django_db
def test_random_rules_select_what_a_plain_reading_selects(members):
    rows = ROWS
    rows.clear()
    rows |= {
        c.pk: _row(c)
        for c in Customer.objects.prefetch_related(
            "tags", "transactions__lines__product", "interactions", "behaviour_events"
        )
    }
    today = timezone.localdate()

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(trees(members))
    def check(tree):
        selected = set(Customer.objects.filter(rule_compile(tree)).values_list("pk", flat=True))
        expected = {pk for pk, row in rows.items() if _matches(tree, row, today)}
        assert selected == expected, tree

    check()


@pytest.mark.django_db
def test_explain_gives_each_conditions_truth_for_one_member(members):
    customer = Customer.objects.filter(points_balance=9000).first()
    tree = {
        "op": "or",
        "rules": [
            {"field": "points_balance", "operator": "gt", "value": 500},
            {"op": "and", "rules": [{"field": "tags", "operator": "is_empty"}]},
        ],
    }
    verdict = rule_explain(tree, queryset=Customer.objects.all(), customer_pk=customer.pk)
    assert verdict.holds
    assert verdict.children[0].holds
    assert verdict.children[1].holds == (not customer.tags.exists())
    assert verdict.children[1].children[0].condition.field.key == "tags"


# --- malformed rules ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ([], "must be a group"),
        ({"op": "xor", "rules": []}, "and, or or not"),
        ({"op": "and", "rules": [{"field": "salary", "operator": "eq", "value": 1}]}, "Condition 1: there is no field"),
        ({"op": "and", "rules": [{"field": "province", "operator": "gt", "value": "x"}]}, "Condition 1 (Province)"),
        ({"op": "and", "rules": [{"field": "points_balance", "operator": "gt", "value": "500"}]}, "whole number"),
        ({"op": "and", "rules": [{"field": "points_balance", "operator": "between", "value": [9, 1]}]}, "first value"),
        ({"op": "and", "rules": [{"field": "registered_on", "operator": "lt", "value": "2026-02-30"}]}, "YYYY-MM-DD"),
        (
            {
                "op": "and",
                "rules": [{"op": "or", "rules": [{"field": "city", "operator": "eq", "value": "x' OR 1=1--"}]}],
            },
            "Condition 1.1 (City)",
        ),
        ({"op": "and", "rules": [{"field": "city", "operator": "eq", "value": "<script>"}]}, "no name or place"),
        ({"op": "and", "rules": [{"field": "tier", "operator": "eq", "value": 999999}]}, "not one of the choices"),
        ({"op": "and", "rules": [{"field": "crm_number", "operator": "in", "value": ["1000-0013"]}]}, "check digit"),
        ({"op": "and", "rules": [{"op": "or", "rules": []}]}, "Group 1 is empty"),
        ({"op": "and", "rules": [{"field": "age", "operator": "is_empty", "value": 3}]}, "takes no value"),
        ({"op": "and", "rules": [{"field": "age", "operator": "eq", "value": 3, "sql": "1"}]}, "only"),
    ],
)
def test_malformed_rules_get_a_message_naming_the_condition(tree, message):
    with pytest.raises(RuleError) as caught:
        rule_compile(tree)
    assert message in caught.value.message


@pytest.mark.django_db
def test_too_deep_and_too_many_are_refused_plainly():
    tree = {"field": "points_balance", "operator": "gt", "value": 1}
    for _ in range(MAX_DEPTH):
        tree = {"op": "and", "rules": [tree]}
    rule_compile(tree)  # five levels are fine
    tree = {"op": "and", "rules": [tree]}
    with pytest.raises(RuleError, match="nested at most"):
        rule_compile(tree)
    many = {"op": "or", "rules": [{"field": "points_balance", "operator": "gt", "value": i} for i in range(51)]}
    with pytest.raises(RuleError, match=f"at most {MAX_CONDITIONS} conditions"):
        rule_compile(many)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20)),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
rule_like = st.recursive(
    st.fixed_dictionaries(
        {
            "field": st.one_of(
                st.sampled_from(["points_balance", "age", "tags", "tier", "registered_on", "city"]),
                st.text(max_size=10),
            ),
            "operator": st.one_of(
                st.sampled_from(["eq", "in", "between", "in_last_days", "is_empty"]), st.text(max_size=5)
            ),
            "value": json_values,
        }
    ),
    lambda children: st.fixed_dictionaries(
        {"op": st.one_of(st.sampled_from(["and", "or", "not"]), json_values), "rules": st.lists(children, max_size=4)}
    ),
    max_leaves=12,
)


@pytest.mark.django_db
@settings(max_examples=300, deadline=None)
@given(st.one_of(rule_like, json_values))
def test_malformed_rules_never_raise_anything_but_rule_error(tree):
    try:
        Customer.objects.filter(rule_compile(tree)).count()
    except RuleError as e:
        assert e.message

"""Co-purchase recommendations: what a member would be offered, and whether it beats offering the best-sellers."""

import json
import math
import pickle

import numpy as np
import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.recommend import (
    CoPurchase,
    Recommendation,
    co_purchase_fit,
    hit_rate_at_k,
    reason_text,
    recommend,
    recommend_many,
)

TEA, CUP, SUGAR, BAG, KETTLE, SPOON = 101, 102, 103, 104, 105, 106


def shop(*baskets: tuple[int, list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """(member, product) pairs from (how many members, what each of them bought)."""
    members, products = [], []
    member = 0
    for count, basket in baskets:
        for _ in range(count):
            member += 1
            members += [member] * len(basket)
            products += basket
    return np.array(members), np.array(products)


@pytest.fixture
def tea_shop() -> CoPurchase:
    # 30 members bought tea and a cup, 10 tea and sugar, 60 only a bag (the best-seller), 5 a kettle and a spoon.
    members, products = shop((30, [TEA, CUP]), (10, [TEA, SUGAR]), (60, [BAG]), (5, [KETTLE, SPOON]))
    return co_purchase_fit(members=members, products=products)


def test_a_new_tea_buyer_is_offered_the_cup_because_of_the_tea(tea_shop):
    offers = recommend(tea_shop, bought=[TEA])

    assert offers[0] == Recommendation(
        product=CUP, because_of=TEA, together=30, score=pytest.approx(30 / math.sqrt(40 * 30))
    )
    assert offers[1].product == SUGAR and offers[1].because_of == TEA and offers[1].together == 10


def test_the_neighbour_list_counts_members_who_bought_both_and_their_cosine(tea_shop):
    cup, sugar = tea_shop.neighbours[TEA]

    assert cup == (CUP, 30, pytest.approx(30 / math.sqrt(40 * 30)))
    assert sugar == (SUGAR, 10, pytest.approx(10 / math.sqrt(40 * 10)))
    assert tea_shop.buyers == {TEA: 40, CUP: 30, SUGAR: 10, BAG: 60, KETTLE: 5, SPOON: 5}
    assert tea_shop.popular == [BAG, TEA, CUP, SUGAR, KETTLE, SPOON]


def test_the_rest_of_the_offers_are_best_sellers_with_no_reason_of_their_own(tea_shop):
    offers = recommend(tea_shop, bought=[TEA], k=4)

    assert [offer.product for offer in offers] == [CUP, SUGAR, BAG, KETTLE]
    assert offers[2] == Recommendation(product=BAG, because_of=None, together=0, score=0.0)


def test_a_member_with_no_history_gets_the_most_popular(tea_shop):
    offers = recommend(tea_shop, bought=[], k=3)

    assert [offer.product for offer in offers] == [BAG, TEA, CUP]
    assert all(offer.because_of is None and offer.together == 0 for offer in offers)


def test_recently_bought_products_passed_as_excluded_are_never_offered(tea_shop):
    offers = recommend(tea_shop, bought=[TEA], exclude=[CUP, BAG], k=10)

    assert [offer.product for offer in offers] == [SUGAR, KETTLE, SPOON]


def test_products_already_bought_are_not_offered_unless_allowed(tea_shop):
    assert TEA not in [offer.product for offer in recommend(tea_shop, bought=[TEA, CUP], k=10)]
    again = recommend(tea_shop, bought=[TEA, CUP], k=10, allow_bought=True)
    assert again[0].product in (TEA, CUP) and again[0].because_of in (TEA, CUP)


def test_the_reason_is_the_bought_product_that_contributed_most():
    # The cup goes with tea (20 of 20) far more than with the spoon (2 of 40).
    members, products = shop((20, [TEA, CUP]), (2, [SPOON, CUP]), (38, [SPOON]))
    model = co_purchase_fit(members=members, products=products)

    offer = recommend(model, bought=[SPOON, TEA], k=1)[0]

    assert (offer.product, offer.because_of, offer.together) == (CUP, TEA, 20)


def test_a_pair_bought_together_by_too_few_members_is_not_a_neighbour():
    members, products = shop((1, [TEA, CUP]), (5, [TEA]), (5, [CUP]))

    assert co_purchase_fit(members=members, products=products).neighbours == {}
    assert co_purchase_fit(members=members, products=products, min_together=1).neighbours[TEA][0][0] == CUP


def test_a_member_buying_a_product_twice_counts_once():
    members, products = shop((3, [TEA, TEA, CUP]), (1, [CUP, CUP]))
    model = co_purchase_fit(members=members, products=products)

    assert model.buyers == {TEA: 3, CUP: 4}
    assert model.neighbours[TEA] == [(CUP, 3, pytest.approx(3 / math.sqrt(3 * 4)))]


def test_each_product_keeps_only_its_top_neighbours():
    members, products = shop((9, [TEA, CUP]), (6, [TEA, SUGAR]), (3, [TEA, SPOON]))

    model = co_purchase_fit(members=members, products=products, top=2)

    assert [other for other, _, _ in model.neighbours[TEA]] == [CUP, SUGAR]


def test_when_the_best_sellers_are_all_excluded_the_next_ones_are_offered():
    members, products = shop(*((50 - product, [product]) for product in range(40)))  # product 0 sells best
    model = co_purchase_fit(members=members, products=products)

    offers = recommend(model, bought=[], exclude=range(30), k=3)

    assert [offer.product for offer in offers] == [30, 31, 32]


def test_recommend_many_answers_every_member_of_the_chunk(tea_shop):
    offers = recommend_many(tea_shop, bought={1: [TEA], 2: [KETTLE]}, exclude={1: [CUP], 3: [BAG]}, k=2)

    assert [offer.product for offer in offers[1]] == [SUGAR, BAG]
    assert [(offer.product, offer.because_of) for offer in offers[2]] == [(SPOON, KETTLE), (BAG, None)]
    assert [offer.product for offer in offers[3]] == [TEA, CUP]  # no history: best-sellers, less the excluded bag


def test_a_model_rebuilt_from_its_stored_fields_or_unpickled_recommends_the_same(tea_shop):
    stored = json.loads(
        json.dumps(
            {
                "products": tea_shop.products.tolist(),
                "buyers": list(tea_shop.buyers.items()),
                "neighbours": list(tea_shop.neighbours.items()),
                "popular": tea_shop.popular,
            }
        )
    )
    rebuilt = CoPurchase(
        products=np.array(stored["products"]),
        buyers=dict(stored["buyers"]),
        neighbours={product: [tuple(entry) for entry in entries] for product, entries in stored["neighbours"]},
        popular=stored["popular"],
    )
    unpickled = pickle.loads(pickle.dumps(tea_shop))  # noqa: S301 (our own bytes)

    for model in (rebuilt, unpickled):
        assert recommend(model, bought=[TEA, KETTLE], k=6) == recommend(tea_shop, bought=[TEA, KETTLE], k=6)


def test_a_shop_with_no_purchases_yet_offers_nothing():
    model = co_purchase_fit(members=np.array([], dtype=int), products=np.array([], dtype=int))

    assert recommend(model, bought=[TEA]) == []
    assert hit_rate_at_k(members=np.array([], dtype=int), products=np.array([], dtype=int), order=np.array([])) == {
        "members": 0,
        "hit_rate": None,
        "popular_hit_rate": None,
        "k": 5,
    }


@pytest.mark.parametrize(
    ("members", "products", "message"),
    [
        (np.array([1, 2]), np.array([TEA]), "same length"),
        (np.array([1.5, 2.5]), np.array([TEA, CUP]), "integer"),
        (np.array([1, 2]), np.array(["tea", "cup"]), "integer"),
    ],
)
def test_pairs_that_cannot_be_read_are_refused(members, products, message):
    with pytest.raises(ValueError, match=message):
        co_purchase_fit(members=members, products=products)


def test_asking_for_no_recommendations_is_refused(tea_shop):
    with pytest.raises(ValueError, match="k must be at least 1"):
        recommend(tea_shop, bought=[TEA], k=0)


def test_the_reason_reads_as_words(tea_shop):
    offers = recommend(tea_shop, bought=[TEA], k=3)

    with translation.override("en"):
        assert reason_text(offers[0], because_of_name="Green tea") == "Bought together with Green tea by 30 members"
        assert reason_text(offers[2]) == "Popular with other members"
        one = Recommendation(product=CUP, because_of=TEA, together=1, score=0.5)
        assert reason_text(one, because_of_name="Green tea") == "Bought together with Green tea by 1 member"


def planted_history(*, members: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ten product pairs (2j, 2j + 1): each member buys one pair, in either order, and often the best-seller 20."""
    rng = np.random.default_rng(seed)
    rows = []
    for member in range(members):
        pair = rng.integers(0, 10)
        first, second = (2 * pair, 2 * pair + 1) if rng.random() < 0.5 else (2 * pair + 1, 2 * pair)
        rows += [(member, first, 1.0), (member, second, 2.0)]
        if rng.random() < 0.7:
            rows.append((member, 20, rng.random() * 3))
    members_, products, order = (np.array(column) for column in zip(*rows, strict=True))
    return members_.astype(int), products.astype(int), order


def test_on_a_planted_pattern_the_hit_rate_beats_offering_the_best_sellers():
    members, products, order = planted_history(members=400, seed=1)

    result = hit_rate_at_k(members=members, products=products, order=order, k=5)

    assert result["members"] == 400
    assert result["hit_rate"] > result["popular_hit_rate"] + 0.3
    assert json.loads(json.dumps(result)) == result


def test_only_members_with_two_distinct_products_are_evaluated():
    members = np.array([1, 1, 2, 2, 3])
    products = np.array([TEA, TEA, TEA, CUP, CUP])

    assert hit_rate_at_k(members=members, products=products, order=np.arange(5))["members"] == 1


ids = st.integers(min_value=0, max_value=25)
product_lists = st.lists(ids, max_size=8)


@settings(max_examples=200)
@given(
    pairs=st.lists(st.tuples(st.integers(0, 30), ids), max_size=80),
    bought=st.dictionaries(st.integers(0, 6), product_lists, max_size=5),
    exclude=st.dictionaries(st.integers(0, 6), product_lists, max_size=5),
    k=st.integers(1, 8),
    top=st.integers(1, 5),
    min_together=st.integers(1, 3),
)
def test_random_histories_never_offer_excluded_or_bought_products_nor_more_than_k(
    pairs, bought, exclude, k, top, min_together
):
    members = np.array([member for member, _ in pairs], dtype=int)
    products = np.array([product for _, product in pairs], dtype=int)
    model = co_purchase_fit(members=members, products=products, top=top, min_together=min_together)

    offers = recommend_many(model, bought=bought, exclude=exclude, k=k)

    assert set(offers) == set(bought) | set(exclude)
    for member, member_offers in offers.items():
        blocked = set(bought.get(member, ())) | set(exclude.get(member, ()))
        offered = [offer.product for offer in member_offers]
        assert not blocked & set(offered)
        assert len(offered) == len(set(offered)) == min(k, len(set(model.popular) - blocked))
        history = set(bought.get(member, ()))
        for offer in member_offers:
            if offer.because_of is None:
                assert (offer.together, offer.score) == (0, 0.0)
                continue
            # The score sums the similarities of the pick in the bought products' neighbour lists; the reason is
            # the bought product whose list has it highest, with that list's count of members who bought both.
            links = {
                source: {other: (count, similarity) for other, count, similarity in model.neighbours.get(source, [])}
                for source in history
            }
            scores = {source: links[source][offer.product][1] for source in history if offer.product in links[source]}
            assert offer.because_of in history and scores[offer.because_of] == max(scores.values())
            assert offer.together == links[offer.because_of][offer.product][0]
            assert offer.score == pytest.approx(sum(scores.values()))
        assert offers[member] == recommend(model, bought=bought.get(member, ()), exclude=exclude.get(member, ()), k=k)


@settings(max_examples=100)
@given(
    pairs=st.lists(st.tuples(st.integers(0, 30), ids, st.floats(0, 10, allow_nan=False)), max_size=80),
    k=st.integers(1, 6),
)
def test_random_histories_give_a_hit_rate_between_0_and_1(pairs, k):
    members = np.array([member for member, _, _ in pairs], dtype=int)
    products = np.array([product for _, product, _ in pairs], dtype=int)
    order = np.array([when for _, _, when in pairs], dtype=float)

    result = hit_rate_at_k(members=members, products=products, order=order, k=k)

    assert result["members"] == sum(1 for member in set(members.tolist()) if len(set(products[members == member])) > 1)
    if result["members"]:
        assert 0 <= result["popular_hit_rate"] <= 1 and 0 <= result["hit_rate"] <= 1

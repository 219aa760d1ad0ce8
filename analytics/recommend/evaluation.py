"""The offline check recorded with each run: hit rate at k on a held-out last purchase, beside the best-sellers."""

import numpy as np
from django.utils.translation import gettext

from analytics.recommend.model import co_purchase_fit, codes, distinct, integer_ids
from analytics.recommend.scoring import top_k

EVALUATION_CHUNK = 10_000


def hit_rate_at_k(*, members: np.ndarray, products: np.ndarray, order: np.ndarray, k: int = 5, top: int = 20) -> dict:
    """Offline check: how often a member's last product is in their top k, beside the most-popular baseline.

    Each member with at least 2 distinct products has the product of their last purchase held out (the largest
    `order`; ties go to the larger product id), all their purchases of it removed, and the model is fitted on
    everything left (other members' whole histories included). A hit is the held-out product among the member's
    top k, their other products excluded; the baseline is the k most popular products of the same fit with the
    same exclusions. Rates are None when no member has 2 distinct products.
    """
    members, products = integer_ids("members", members), integer_ids("products", products)
    order = np.asarray(order).reshape(-1)
    if not len(members) == len(products) == len(order):
        raise ValueError(gettext("members, products and order must have the same length."))
    if k < 1:
        raise ValueError(gettext("k must be at least 1."))
    member_index, member_ids = codes(members)
    by_time = np.lexsort((products, order, member_index))
    last = by_time[np.r_[member_index[by_time][1:] != member_index[by_time][:-1], True]] if len(by_time) else by_time
    held_out = np.full(len(member_ids), -1, dtype=np.int64)
    held_out[member_index[last]] = products[last]
    del by_time, last  # large arrays go as soon as they are used, before the fit needs its own
    product_index, product_ids = codes(products, sort=True)
    catalogue = max(len(product_ids), 1)
    pairs = distinct(member_index * catalogue + product_index)  # distinct (member, product), by member
    del product_index
    pair_members = pairs // catalogue
    eligible = np.bincount(pair_members, minlength=len(member_ids)) >= 2
    train = ~(eligible[member_index] & (products == held_out[member_index]))
    del member_index
    model = co_purchase_fit(members=members[train], products=products[train], top=top)
    del train

    size = len(model.products)
    evaluated = np.flatnonzero(eligible)
    row_of = np.full(len(member_ids), -1, dtype=np.int64)
    row_of[evaluated] = np.arange(len(evaluated))
    pair_products = product_ids[pairs % catalogue]
    rest = eligible[pair_members] & (pair_products != held_out[pair_members])
    rest_keys = np.sort(row_of[pair_members[rest]] * size + model.index_of(pair_products[rest]))
    del pairs, pair_members, pair_products, rest
    target = model.index_of(held_out[evaluated])
    hits = popular_hits = 0
    for start in range(0, len(evaluated), EVALUATION_CHUNK):
        stop = min(start + EVALUATION_CHUNK, len(evaluated))
        lo, hi = np.searchsorted(rest_keys, [start * size, stop * size])
        chunk = rest_keys[lo:hi] - start * size
        wanted = target[start:stop, None]
        for co_purchase in (True, False):
            picks = top_k(model, rows=stop - start, bought=chunk, blocked=chunk, k=k, co_purchase=co_purchase)[0]
            found = int(((picks == wanted) & (wanted >= 0)).any(axis=1).sum())
            if co_purchase:
                hits += found
            else:
                popular_hits += found
    count = len(evaluated)
    return {
        "members": int(count),
        "hit_rate": hits / count if count else None,
        "popular_hit_rate": popular_hits / count if count else None,
        "k": int(k),
    }

"""Next products to offer each member: item-to-item co-purchase ("members who bought this also bought").

Why item-to-item (Linden, Smith & York, "Amazon.com recommendations: item-to-item collaborative filtering", 2003)
rather than a factorisation: the work grows with the catalogue, not with the members (the fit is one sparse product
X.T @ X of the binary member x product matrix; scoring a member is their sparse row times the neighbour matrix), and
every pick explains itself: the bought product that contributed most and how many members bought both, which is the
reason shown on the customer's page ("bought together with X by 312 members").

Similarity is the cosine of the binary member x product matrix: together(i, j) / sqrt(buyers(i) * buyers(j)), so a
best-seller is not everyone's neighbour just for being bought often. Pairs bought together by fewer than
`min_together` members are noise and dropped; each product keeps its `top` best neighbours. A member's score for a
product is the sum of its similarities from the member's bought products; whatever the neighbours cannot fill is
filled from the most popular products (also for members with no history), which score 0.

Everything here is pure numpy/scipy: the lead's jobs read the pairs from Postgres, fit once and score members in
id-range chunks (`recommend_many`, about 10,000 members a call).
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain

import numpy as np
import pandas as pd
from django.utils.translation import gettext, ngettext
from scipy import sparse

EVALUATION_CHUNK = 10_000


@dataclass
class CoPurchase:
    products: np.ndarray  # product ids known to the model
    buyers: dict[int, int]  # product -> members who bought it
    neighbours: dict[int, list[tuple[int, int, float]]]  # product -> [(other, together, similarity)], best first
    popular: list[int]  # product ids, most buyers first
    # Derived from the fields above (so a model rebuilt from stored neighbours scores the same): the neighbour lists
    # as a sparse product x product matrix, and their co-counts and sorted row * n + column keys aligned with it.
    _similarity: sparse.csr_array = field(init=False, repr=False, compare=False)
    _together: np.ndarray = field(init=False, repr=False, compare=False)
    _keys: np.ndarray = field(init=False, repr=False, compare=False)
    _popularity_rank: np.ndarray = field(init=False, repr=False, compare=False)
    _popular_index: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.products = _distinct(np.asarray(self.products, dtype=np.int64))
        size = len(self.products)
        self._popular_index = self.index_of(self.popular)
        # Each product's place in `popular` (most buyers, then smaller id), one sort key for ties between scores.
        self._popularity_rank = np.full(size, size, dtype=np.int64)
        self._popularity_rank[self._popular_index[self._popular_index >= 0]] = np.flatnonzero(self._popular_index >= 0)
        lists = list(self.neighbours.items())
        lengths = np.array([len(items) for _, items in lists], dtype=np.int64)
        rows = np.repeat(self.index_of([product for product, _ in lists]), lengths)
        entries = list(chain.from_iterable(items for _, items in lists))
        cols = self.index_of([other for other, _, _ in entries])
        together = np.array([count for _, count, _ in entries], dtype=np.int64)
        similarity = np.array([value for _, _, value in entries], dtype=np.float64)
        if (rows < 0).any() or (cols < 0).any():
            raise ValueError(gettext("Every product in the neighbour lists must be among the model's products."))
        keys = rows * size + cols
        order = np.argsort(keys, kind="stable")
        indptr = np.searchsorted(rows[order], np.arange(size + 1))
        self._similarity = sparse.csr_array((similarity[order], cols[order], indptr), shape=(size, size))
        self._together = together[order]
        self._keys = keys[order]

    def index_of(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Positions of product ids in `products`, -1 for products the model does not know."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        positions = np.searchsorted(self.products, ids)
        positions = np.minimum(positions, max(len(self.products) - 1, 0))
        known = (self.products[positions] == ids) if len(self.products) else np.zeros(len(ids), dtype=bool)
        return np.where(known, positions, -1)


@dataclass(frozen=True)
class Recommendation:
    product: int
    because_of: int | None  # the bought product that contributed most; None for a popularity pick
    together: int  # members who bought both (0 for a popularity pick)
    score: float


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values. numpy 2.5's np.unique hashes, which takes seconds on millions of distinct keys."""
    ordered = np.sort(values, kind="stable")
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


def _within(values: np.ndarray, ordered: np.ndarray) -> np.ndarray:
    """Whether each value is in `ordered` (sorted): a binary search, with no table the size of the key range."""
    if len(ordered) == 0:
        return np.zeros(np.shape(values), dtype=bool)
    positions = np.minimum(np.searchsorted(ordered, values), len(ordered) - 1)
    return ordered[positions] == values


def _codes(values: np.ndarray, *, sort: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(code of each value, distinct values): pandas' hash table needs a third of np.unique's memory and time."""
    codes, distinct = pd.factorize(values, sort=sort)
    return codes.astype(np.int64, copy=False), np.asarray(distinct, dtype=np.int64)


def _ids(name: str, values: object) -> np.ndarray:
    array = np.asarray(values).reshape(-1)
    if array.size == 0:
        return array.astype(np.int64)
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(gettext("%(name)s must be integer ids.") % {"name": name})
    return array.astype(np.int64)


def co_purchase_fit(*, members: np.ndarray, products: np.ndarray, top: int = 20, min_together: int = 2) -> CoPurchase:
    """Learn each product's `top` neighbours from (member, product) pairs, one per purchase line.

    A member who bought a product several times counts once. Similarity: cosine on the binary member x product
    matrix (see the module docstring); ties are broken by more members together, then the smaller product id.
    """
    members, products = _ids("members", members), _ids("products", products)
    if len(members) != len(products):
        raise ValueError(gettext("members and products must have the same length."))
    if top < 1 or min_together < 1:
        raise ValueError(gettext("top and min_together must be at least 1."))
    product_index, product_ids = _codes(products, sort=True)
    member_index, member_ids = _codes(members)
    size = len(product_ids)
    pairs = _distinct(member_index * size + product_index)
    del product_index, member_index  # the large arrays go as soon as they are used: a fit may see 10,000,000 lines
    # The distinct pairs are sorted by member, then product: the CSR arrays directly, in 32 bits where they fit.
    index_type = np.int32 if len(pairs) < np.iinfo(np.int32).max else np.int64
    indptr = np.searchsorted(pairs, np.arange(len(member_ids) + 1) * size).astype(index_type)
    indices = (pairs % size).astype(np.int32)
    del pairs
    matrix = sparse.csr_array((np.ones(len(indices), dtype=np.int32), indices, indptr), shape=(len(member_ids), size))
    buyers = np.bincount(indices, minlength=size).astype(np.int64)
    together = (matrix.T.tocsr() @ matrix).tocoo()
    del matrix, indices, indptr
    keep = (together.row != together.col) & (together.data >= min_together)
    rows, cols, counts = together.row[keep], together.col[keep], together.data[keep].astype(np.int64)
    similarity = counts / np.sqrt(buyers[rows].astype(np.float64) * buyers[cols])
    order = np.lexsort((product_ids[cols], -counts, -similarity, rows))
    rows, cols, counts, similarity = rows[order], cols[order], counts[order], similarity[order]
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows)
    best = rank < top
    rows, cols, counts, similarity = rows[best], cols[best], counts[best], similarity[best]

    row_ids, col_ids = product_ids[rows].tolist(), product_ids[cols].tolist()
    neighbours: dict[int, list[tuple[int, int, float]]] = {}
    for product, other, count, value in zip(row_ids, col_ids, counts.tolist(), similarity.tolist(), strict=True):
        neighbours.setdefault(product, []).append((other, count, value))
    popular_order = np.lexsort((product_ids, -buyers))
    return CoPurchase(
        products=product_ids,
        buyers=dict(zip(product_ids.tolist(), buyers.tolist(), strict=True)),
        neighbours=neighbours,
        popular=product_ids[popular_order].tolist(),
    )


def _expand(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of `rows`, the positions of its entries in a CSR matrix: (which of `rows`, position)."""
    counts = indptr[rows + 1] - indptr[rows]
    owner = np.repeat(np.arange(len(rows)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, indptr[rows][owner] + offsets


def _score(
    model: CoPurchase, *, rows: int, bought: np.ndarray, blocked: np.ndarray, k: int, co_purchase: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The top k for `rows` members as (rows, k) arrays of product index, because-of index, together and score.

    `bought` and `blocked` are sorted unique keys row * n + product index (n = the model's products); blocked
    products are never picked. Empty slots (the catalogue ran out) hold -1. `co_purchase=False` gives the
    most-popular baseline.
    """
    size = len(model.products)
    picks = np.full((rows, k), -1, dtype=np.int64)
    because = np.full((rows, k), -1, dtype=np.int64)
    together = np.zeros((rows, k), dtype=np.int64)
    scores = np.zeros((rows, k), dtype=np.float64)
    filled = np.zeros(rows, dtype=np.int64)
    if size == 0:
        return picks, because, together, scores
    history = sparse.csr_array(
        (np.ones(len(bought)), (bought // size, bought % size)), shape=(rows, size), dtype=np.float64
    )
    if co_purchase and len(model._keys):
        candidates = history @ model._similarity
        cand_rows = np.repeat(np.arange(rows), np.diff(candidates.indptr))
        cand_cols, cand_scores = candidates.indices.astype(np.int64), candidates.data
        allowed = ~_within(cand_rows * size + cand_cols, blocked)
        cand_rows, cand_cols, cand_scores = cand_rows[allowed], cand_cols[allowed], cand_scores[allowed]
        order = np.lexsort((model._popularity_rank[cand_cols], -cand_scores, cand_rows))
        cand_rows, cand_cols, cand_scores = cand_rows[order], cand_cols[order], cand_scores[order]
        rank = np.arange(len(cand_rows)) - np.searchsorted(cand_rows, cand_rows)
        chosen = rank < k
        cand_rows, cand_cols, cand_scores, rank = (
            cand_rows[chosen],
            cand_cols[chosen],
            cand_scores[chosen],
            rank[chosen],
        )
        picks[cand_rows, rank], scores[cand_rows, rank] = cand_cols, cand_scores
        filled = np.bincount(cand_rows, minlength=rows)

        # The reason: of the member's bought products, the one whose similarity to the pick is largest.
        owner, position = _expand(history.indptr, cand_rows)
        source = history.indices[position].astype(np.int64)
        keys = source * size + cand_cols[owner]
        found = np.minimum(np.searchsorted(model._keys, keys), len(model._keys) - 1)
        hit = model._keys[found] == keys
        link_similarity = np.where(hit, model._similarity.data[found], -1.0)
        link_together = np.where(hit, model._together[found], 0)
        order = np.lexsort((model.products[source], -link_together, -link_similarity, owner))
        first = order[np.r_[True, owner[order][1:] != owner[order][:-1]]] if len(order) else order
        because[cand_rows[owner[first]], rank[owner[first]]] = source[first]
        together[cand_rows[owner[first]], rank[owner[first]]] = link_together[first]

    _fill_popular(model, picks=picks, filled=filled, blocked=blocked, size=size)
    return picks, because, together, scores


def _fill_popular(model: CoPurchase, *, picks: np.ndarray, filled: np.ndarray, blocked: np.ndarray, size: int) -> None:
    """Fill each member's empty slots, in place, with the most popular products not blocked nor already picked."""
    rows, k = picks.shape
    short = np.flatnonzero(filled < k)
    if len(short) == 0:
        return
    taken = picks[short]
    taken_keys = (short[:, None] * size + taken)[taken >= 0]
    unavailable = _distinct(np.concatenate([blocked, taken_keys]))
    # Most members are short of only the first few popular products; a wider look is left to a loop below.
    head = model._popular_index[: min(size, 2 * k + 16)]
    free = ~_within(short[:, None] * size + head[None, :], unavailable)
    need = (k - filled[short])[:, None]
    take = free & (np.cumsum(free, axis=1) <= need)
    slot_rows, slot_cols = np.nonzero(take)
    slots = filled[short][slot_rows] + np.cumsum(take, axis=1)[slot_rows, slot_cols] - 1
    picks[short[slot_rows], slots] = head[slot_cols]
    got = take.sum(axis=1)
    for row in short[(got < need[:, 0]) & (len(head) < size)].tolist():
        chosen = set(picks[row][picks[row] >= 0].tolist())
        lo, hi = np.searchsorted(blocked, [row * size, (row + 1) * size])
        chosen.update((blocked[lo:hi] - row * size).tolist())
        slot = int(np.count_nonzero(picks[row] >= 0))
        for product in model._popular_index.tolist():
            if slot == k:
                break
            if product not in chosen:
                picks[row, slot] = product
                slot += 1


def _keys(model: CoPurchase, lists: Sequence[Collection[int]]) -> np.ndarray:
    """Sorted unique row * n + product index keys of per-member product lists; unknown products are left out."""
    lengths = np.fromiter((len(items) for items in lists), dtype=np.int64, count=len(lists))
    ids = np.fromiter(chain.from_iterable(lists), dtype=np.int64, count=int(lengths.sum()))
    index = model.index_of(ids)
    rows = np.repeat(np.arange(len(lists)), lengths)
    known = index >= 0
    return _distinct(rows[known] * len(model.products) + index[known])


def recommend_many(
    model: CoPurchase,
    *,
    bought: Mapping[int, Sequence[int]],
    exclude: Mapping[int, Collection[int]],
    k: int = 5,
    allow_bought: bool = False,
) -> dict[int, list[Recommendation]]:
    """Up to k recommendations for each member in `bought` (and in `exclude`, as members with no history).

    Never a product in the member's `exclude`, nor (unless `allow_bought`) one the member bought; co-purchase
    picks first, best score first (ties in the order of `model.popular`: more buyers, then the smaller id), then
    popularity picks. Fewer than k only when the catalogue runs out. Products the model does not know (bought only
    after the fit) are ignored.
    """
    if k < 1:
        raise ValueError(gettext("k must be at least 1."))
    members = list(dict.fromkeys(chain(bought, exclude)))
    history = _keys(model, [bought.get(member, ()) for member in members])
    blocked = _keys(model, [exclude.get(member, ()) for member in members])
    if not allow_bought:
        blocked = _distinct(np.concatenate([blocked, history]))
    picks, because, together, scores = _score(model, rows=len(members), bought=history, blocked=blocked, k=k)
    counts = np.count_nonzero(picks >= 0, axis=1).tolist()  # picks fill each row from its first slot
    padded = np.append(model.products, 0)  # an empty slot (-1) reads the padding, and is never shown
    columns = zip(
        padded[picks].tolist(),
        np.where(because >= 0, padded[because], -1).tolist(),
        (because < 0).tolist(),
        together.tolist(),
        scores.tolist(),
        strict=True,
    )
    result = {}
    for member, count, (products, sources, popular, counts_together, values) in zip(
        members, counts, columns, strict=True
    ):
        result[member] = [
            Recommendation(
                product=products[slot],
                because_of=None if popular[slot] else sources[slot],
                together=counts_together[slot],
                score=values[slot],
            )
            for slot in range(count)
        ]
    return result


def recommend(
    model: CoPurchase, *, bought: Sequence[int], exclude: Collection[int] = (), k: int = 5, allow_bought: bool = False
) -> list[Recommendation]:
    """Up to k recommendations for one member; see `recommend_many`."""
    return recommend_many(model, bought={0: bought}, exclude={0: exclude}, k=k, allow_bought=allow_bought)[0]


def hit_rate_at_k(*, members: np.ndarray, products: np.ndarray, order: np.ndarray, k: int = 5, top: int = 20) -> dict:
    """Offline check: how often a member's last product is in their top k, beside the most-popular baseline.

    Each member with at least 2 distinct products has the product of their last purchase held out (the largest
    `order`; ties go to the larger product id), all their purchases of it removed, and the model is fitted on
    everything left (other members' whole histories included). A hit is the held-out product among the member's
    top k, their other products excluded; the baseline is the k most popular products of the same fit with the
    same exclusions. Rates are None when no member has 2 distinct products.
    """
    members, products = _ids("members", members), _ids("products", products)
    order = np.asarray(order).reshape(-1)
    if not len(members) == len(products) == len(order):
        raise ValueError(gettext("members, products and order must have the same length."))
    if k < 1:
        raise ValueError(gettext("k must be at least 1."))
    member_index, member_ids = _codes(members)
    by_time = np.lexsort((products, order, member_index))
    last = by_time[np.r_[member_index[by_time][1:] != member_index[by_time][:-1], True]] if len(by_time) else by_time
    held_out = np.full(len(member_ids), -1, dtype=np.int64)
    held_out[member_index[last]] = products[last]
    del by_time, last  # large arrays go as soon as they are used, before the fit needs its own
    product_index, product_ids = _codes(products, sort=True)
    catalogue = max(len(product_ids), 1)
    pairs = _distinct(member_index * catalogue + product_index)  # distinct (member, product), by member
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
            picks = _score(model, rows=stop - start, bought=chunk, blocked=chunk, k=k, co_purchase=co_purchase)[0]
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


def reason_text(recommendation: Recommendation, *, because_of_name: str = "") -> str:
    """The reason in words for the customer's page and campaign templates (the caller names the product)."""
    if recommendation.because_of is None:
        return gettext("Popular with other members")
    return ngettext(
        "Bought together with %(product)s by %(count)d member",
        "Bought together with %(product)s by %(count)d members",
        recommendation.together,
    ) % {"product": because_of_name or str(recommendation.because_of), "count": recommendation.together}
